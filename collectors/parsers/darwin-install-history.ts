/**
 * `/Library/Receipts/InstallHistory.plist` → patch_age_days.
 *
 * Shape: an array of dicts `{ date: <date>, displayName, displayVersion, processName,
 * packageIdentifiers: [..], contentType? }` (google/grr `software_test.py`, chef/chef
 * `spec/unit/resource/data/InstallHistory_*.plist`). Dates are UTC `<date>` values.
 *
 * What counts as "the OS was updated" (research §4.2, narrowed by SPEC §2):
 * - installed by `softwareupdated`, `Software Update`, `macOS Installer` or `OS X Installer`, and
 * - not a background data feed: `contentType` `config-data`, or a name starting with
 *   XProtect / Gatekeeper / MRT / Bridge or ending in `Data` (XProtectPlistConfigData,
 *   Gatekeeper Configuration Data, MRTConfigData arrive every few days and would make any
 *   Mac look freshly patched), and
 * - either named as an OS update (`macOS …`, `Mac OS X …`, `OS X …`, `Security Update …`,
 *   Rapid Security Responses such as `macOS 13.4.1 (a)` or `… Security Response …`), or an
 *   upgrade: an earlier entry with the same name and a different version exists.
 *   The last rule keeps a first install through Software Update (Command Line Tools for
 *   Xcode in chef's fixture) from counting: SPEC §2 says installing a new package is not
 *   patching. Safari or CLT upgrades do count.
 * Entries without a valid date are skipped and counted in facts.
 *
 * `softwareupdate --history --all` is deliberately not a fallback: its date column is
 * formatted by the user's locale settings (e.g. `11/02/2026, 09:41:17`), not by LC_ALL, and
 * the column layout is unverified (research §7), so it cannot be parsed robustly.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import type { Parsed, PlistDict } from './darwin-plist.ts';
import { dateAt, decodePlist, decodeProblem, isDict, stringAt, stringsAt } from './darwin-plist.ts';

const METHOD = 'InstallHistory.plist';
const DAY_MS = 86_400_000;

/**
 * The processes that install Apple's updates: `softwareupdated` (10.10+), `Software Update`,
 * and the full-OS installers, `macOS Installer` and on OS X 10.9–10.11 `OS X Installer`
 * (log2timeline/plaso test data). Not the generic `Installer` (any package a user opens).
 */
const UPDATE_PROCESSES = new Set(['softwareupdated', 'Software Update', 'macOS Installer', 'OS X Installer']);
const DATA_FEED_NAME = /^(?:XProtect|Gatekeeper|MRT|Bridge)|Data$/i;
const OS_UPDATE_NAME = /^(?:macOS|Mac OS X|OS X)\b|^Security Update\b|\bSecurity Response\b/i;

export interface InstallEntry {
  readonly date: Date;
  readonly displayName: string;
  readonly displayVersion: string;
  readonly processName: string;
  readonly contentType?: string;
  readonly packageIdentifiers: readonly string[];
}

export interface InstallHistory {
  readonly entries: readonly InstallEntry[];
  /** Entries skipped because they had no valid date (or were not dictionaries). */
  readonly skipped: number;
}

export function parseInstallHistory(input: string | Uint8Array): Parsed<InstallHistory> {
  const decoded = decodePlist(input, 'InstallHistory.plist');
  if (!decoded.ok) return { ok: false, finding: decodeProblem(decoded, METHOD) };
  if (!Array.isArray(decoded.value)) {
    return { ok: false, finding: unknown('unparsed_output', METHOD, 'InstallHistory.plist is not an array of install records') };
  }
  const entries: InstallEntry[] = [];
  let skipped = 0;
  for (const item of decoded.value) {
    const entry = isDict(item) ? toEntry(item) : undefined;
    if (entry) entries.push(entry);
    else skipped += 1;
  }
  return { ok: true, value: { entries, skipped } };
}

function toEntry(dict: PlistDict): InstallEntry | undefined {
  const date = dateAt(dict, 'date');
  if (!date) return undefined;
  const contentType = stringAt(dict, 'contentType');
  return {
    date,
    displayName: stringAt(dict, 'displayName') ?? '',
    displayVersion: stringAt(dict, 'displayVersion') ?? '',
    processName: stringAt(dict, 'processName') ?? '',
    ...(contentType === undefined ? {} : { contentType }),
    packageIdentifiers: stringsAt(dict, 'packageIdentifiers') ?? [],
  };
}

/** Whether an entry is an OS update/upgrade; `all` is the whole history (for the upgrade rule). */
export function isOsUpdate(entry: InstallEntry, all: readonly InstallEntry[]): boolean {
  if (!UPDATE_PROCESSES.has(entry.processName)) return false;
  if (entry.contentType === 'config-data' || DATA_FEED_NAME.test(entry.displayName.trim())) return false;
  if (OS_UPDATE_NAME.test(entry.displayName.trim())) return true;
  return all.some(
    (earlier) =>
      earlier.date.getTime() < entry.date.getTime() &&
      earlier.displayName === entry.displayName &&
      earlier.displayVersion !== entry.displayVersion,
  );
}

/** Whole days since the last OS update, as of `now`. */
export function decideDarwinPatchAge(history: InstallHistory, now: Date): Finding<number> {
  const { entries, skipped } = history;
  const updates = entries.filter((entry) => isOsUpdate(entry, entries));
  const latestAny = latest(entries);
  const facts: Record<string, unknown> = {
    history_entries: entries.length,
    os_update_entries: updates.length,
    ...(latestAny ? { last_any_install_at: latestAny.date.toISOString() } : {}),
    ...(skipped > 0 ? { skipped_entries: skipped } : {}),
  };
  const last = latest(updates);
  if (!last) {
    return unknown(
      'no_history',
      METHOD,
      entries.length === 0
        ? 'InstallHistory.plist records no installs'
        : `none of the ${entries.length} install records is an OS update (only data feeds, new packages or third-party installs)`,
      facts,
    );
  }
  const rawDays = Math.floor((now.getTime() - last.date.getTime()) / DAY_MS);
  const days = Math.max(0, rawDays);
  const lastUpdate = {
    name: last.displayName,
    version: last.displayVersion,
    installed_at: last.date.toISOString(),
    process: last.processName,
  };
  const clampNote = rawDays < 0 ? ' (recorded in the future: clock skew, clamped to 0)' : '';
  return known(
    days,
    METHOD,
    `last update "${last.displayName}"${last.displayVersion ? ` (${last.displayVersion})` : ''} installed ${lastUpdate.installed_at} by ${last.processName}, ${days} day(s) ago${clampNote}`,
    { ...facts, last_update: lastUpdate, ...(rawDays < 0 ? { clamped_from_days: rawDays } : {}) },
  );
}

function latest(entries: readonly InstallEntry[]): InstallEntry | undefined {
  let best: InstallEntry | undefined;
  for (const entry of entries) if (!best || entry.date.getTime() > best.date.getTime()) best = entry;
  return best;
}
