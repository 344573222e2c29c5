/**
 * Days since Windows last installed an update, from the JSON of
 * collectors/windows/patch-age.ts: `{totalCount, history, historyError, hotfixes, hotfixError}`.
 *
 * - `history` is the Windows Update Agent's IUpdateSearcher.QueryHistory, already filtered
 *   by the script to Operation 1 (installation) with ResultCode 2 (Succeeded) or 3
 *   (SucceededWithErrors) — the codes osquery's windows_update_history.cpp maps — as
 *   `[{date, kb, title, resultCode}]`, dates printed `ToUniversalTime().ToString('o')`.
 * - Defender definition and platform packages are not patches of the OS and arrive daily
 *   (amidaware/tacticalrmm#586; akunzai/windows-secure-auditor#85), so they are dropped:
 *   KB2267602 (Defender security intelligence), KB2461484 (System Center Endpoint
 *   Protection definitions), KB4052623 (Defender platform), KB915597 (Windows 7/8.1
 *   Defender definitions); so is the monthly Malicious Software Removal Tool, KB890830,
 *   which removes malware and patches nothing. They are matched by KB number,
 *   never by title: titles are localized ("Kumulatives Update", Yogibaer75/Check_MK-Things#30)
 *   and were renamed from "Definition Update" to "Security Intelligence Update"
 *   (AndersRodland/ConfigMgrClientHealth PR #54). Entries without a KB (a feature update
 *   such as "Windows 11, version 24H2") count.
 * - `hotfixes` is the fallback, Get-HotFix (Win32_QuickFixEngineering), used when the
 *   update history is unavailable or holds nothing but excluded packages. InstalledOn is
 *   printed as an ISO instant by the script; Get-HotFix leaves it blank when it cannot
 *   parse the culture-formatted InstallDate (potatoqualitee/kbupdate#167), and blank rows
 *   are skipped there. QFE lists only some updates (potatoqualitee/kbupdate#67), so it is
 *   second choice.
 * Days = floor((now − newest) / 86 400 000); a date in the future (clock skew) clamps to 0
 * and says so. No usable entry → null `no_history`, never 0.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import {
  asArray,
  asInstant,
  asInt,
  asRecord,
  asString,
  describeError,
  parseProbeOutput,
  readScriptError,
  scriptFailure,
  type ScriptError,
} from './windows-powershell.ts';

export const WUA_METHOD = 'wua:QueryHistory';
export const HOTFIX_METHOD = 'Get-HotFix';

/**
 * Not OS patches: Defender definition / platform packages (daily) and the monthly Malicious
 * Software Removal Tool, which scans and exits and patches nothing (KB890830, "Windows
 * Malicious Software Removal Tool x64 - v5.x"). KB915597 is Defender's definition package
 * on Windows 7/8.1.
 */
export const EXCLUDED_KBS: readonly string[] = ['KB2267602', 'KB2461484', 'KB4052623', 'KB890830', 'KB915597'];

const DAY_MS = 86_400_000;

export interface InstalledUpdate {
  readonly date: Date;
  readonly kb: string | null;
  readonly title: string;
}

export interface UpdateHistoryProbe {
  /** null when the Windows Update Agent failed. */
  readonly history: readonly InstalledUpdate[] | null;
  readonly historyError: ScriptError | null;
  readonly historyUnreadable: number;
  readonly totalCount: number | null;
  /** null when Get-HotFix did not run or failed. */
  readonly hotfixes: readonly InstalledUpdate[] | null;
  readonly hotfixError: ScriptError | null;
}

export function parseUpdateHistoryOutput(text: string, now: Date): Finding<number> {
  return parseProbeOutput(text, WUA_METHOD, 'update-history', readUpdateHistoryProbe, (probe) => decidePatchAge(probe, now));
}

export function isExcludedKb(kb: string | null): boolean {
  return kb !== null && EXCLUDED_KBS.includes(kb.toUpperCase());
}

export function readUpdateHistoryProbe(value: unknown): UpdateHistoryProbe | null {
  const record = asRecord(value);
  if (record === null || !('history' in record || 'historyError' in record)) return null;
  const historyError = readScriptError(record.historyError);
  const history = historyError === null && record.history !== undefined ? readEntries(record.history, 'date', 'kb') : null;
  const hotfixError = readScriptError(record.hotfixError);
  const hotfixes =
    hotfixError === null && record.hotfixes !== null && record.hotfixes !== undefined
      ? readEntries(record.hotfixes, 'installedOn', 'id')
      : null;
  return {
    history: history?.entries ?? null,
    historyError,
    historyUnreadable: history?.unreadable ?? 0,
    totalCount: asInt(record.totalCount),
    hotfixes: hotfixes?.entries ?? null,
    hotfixError,
  };
}

function readEntries(value: unknown, dateKey: string, kbKey: string): { entries: InstalledUpdate[]; unreadable: number } {
  const entries: InstalledUpdate[] = [];
  let unreadable = 0;
  for (const item of asArray(value)) {
    const record = asRecord(item);
    const date = record === null ? null : asInstant(record[dateKey]);
    if (record === null || date === null) {
      unreadable += 1;
      continue;
    }
    const title = asString(record.title) ?? '';
    const kb = asString(record[kbKey])?.trim().toUpperCase() || /\bKB\d{6,8}\b/i.exec(title)?.[0]?.toUpperCase() || null;
    entries.push({ date, kb, title });
  }
  return { entries, unreadable };
}

export function decidePatchAge(probe: UpdateHistoryProbe, now: Date): Finding<number> {
  const historyRelevant = probe.history?.filter((entry) => !isExcludedKb(entry.kb)) ?? [];
  const excludedCount = (probe.history?.length ?? 0) - historyRelevant.length;
  if (historyRelevant.length > 0) {
    return ageFinding(newest(historyRelevant), now, WUA_METHOD, 'Windows Update history', {
      installations: probe.history?.length ?? 0,
      excluded_definition_updates: excludedCount,
      history_count: probe.totalCount,
    });
  }
  const hotfixes = probe.hotfixes ?? [];
  const historySeen =
    probe.history === null
      ? `the Windows Update history failed (${probe.historyError ? describeError(probe.historyError) : 'no answer'})`
      : probe.history.length === 0
        ? 'the Windows Update history lists no successful installation'
        : `the Windows Update history lists only Defender definition/platform packages (${excludedCount})`;
  if (hotfixes.length > 0) {
    return ageFinding(newest(hotfixes), now, HOTFIX_METHOD, `Get-HotFix (${historySeen})`, { hotfixes: hotfixes.length });
  }
  const hotfixSeen =
    probe.hotfixError !== null
      ? `Get-HotFix failed (${describeError(probe.hotfixError)})`
      : probe.hotfixes === null
        ? 'Get-HotFix gave no answer'
        : 'Get-HotFix lists no hotfix with an install date';
  if (probe.history === null && probe.hotfixes === null) {
    if (probe.historyError !== null && probe.hotfixError !== null) {
      return { ...scriptFailure(probe.historyError, WUA_METHOD), detail: `no update history could be read: ${historySeen}; ${hotfixSeen}` };
    }
    return unknown('command_failed', WUA_METHOD, `no update history could be read: ${historySeen}; ${hotfixSeen}`);
  }
  return unknown('no_history', probe.history === null ? HOTFIX_METHOD : WUA_METHOD, `no installed update found: ${historySeen}; ${hotfixSeen}`);
}

function newest(entries: readonly InstalledUpdate[]): InstalledUpdate {
  return entries.reduce((latest, entry) => (entry.date.getTime() > latest.date.getTime() ? entry : latest));
}

function ageFinding(
  last: InstalledUpdate,
  now: Date,
  method: string,
  source: string,
  facts: Record<string, unknown>,
): Finding<number> {
  const elapsed = now.getTime() - last.date.getTime();
  const clamped = elapsed < 0;
  const days = clamped ? 0 : Math.floor(elapsed / DAY_MS);
  const what = last.title || last.kb || 'an update';
  const detail = `${source}: newest installation ${last.date.toISOString()} (${what}${last.kb && !last.title.includes(last.kb) ? `, ${last.kb}` : ''}), ${days} day${days === 1 ? '' : 's'} ago${clamped ? '; the date is in the future (clock skew?), so the age is clamped to 0' : ''}`;
  return known(days, method, detail, {
    ...facts,
    last_update: last.date.toISOString(),
    last_update_kb: last.kb,
    last_update_title: last.title || null,
    ...(clamped ? { clamped_future_date: true } : {}),
  });
}
