/**
 * Patch age (SPEC section 2): whole days since the OS's installed software was last
 * UPDATED — a package upgraded to a newer version, an OS update or a hotfix installed.
 * Installing a new package is not patching. Unknown history is `null`, never 0.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';

export const DAY_MS = 86_400_000;

/** What an update log says: the newest update, and (for context) the newest change of any kind. */
export interface UpdateHistory {
  readonly lastUpdate: Date | null;
  readonly lastAnyChange: Date | null;
  /** How many update events were seen. */
  readonly updates: number;
  /** Free-form note about the newest update (package or title). */
  readonly lastUpdateLabel?: string;
}

export const EMPTY_HISTORY: UpdateHistory = { lastUpdate: null, lastAnyChange: null, updates: 0 };

/** Merges histories from several files (rotated logs), keeping the newest of each. */
export function mergeHistories(histories: readonly UpdateHistory[]): UpdateHistory {
  let merged: UpdateHistory = EMPTY_HISTORY;
  for (const history of histories) {
    const newer = history.lastUpdate !== null && (merged.lastUpdate === null || history.lastUpdate > merged.lastUpdate);
    merged = {
      lastUpdate: newer ? history.lastUpdate : merged.lastUpdate,
      lastAnyChange:
        history.lastAnyChange !== null && (merged.lastAnyChange === null || history.lastAnyChange > merged.lastAnyChange)
          ? history.lastAnyChange
          : merged.lastAnyChange,
      updates: merged.updates + history.updates,
      ...(newer
        ? history.lastUpdateLabel === undefined ? {} : { lastUpdateLabel: history.lastUpdateLabel }
        : merged.lastUpdateLabel === undefined ? {} : { lastUpdateLabel: merged.lastUpdateLabel }),
    };
  }
  return merged;
}

/** Turns an update history into the patch-age finding, relative to `now`. */
export function patchAgeFinding(history: UpdateHistory, now: Date, method: string, source: string): Finding<number> {
  const facts: Record<string, unknown> = {
    source,
    last_update: history.lastUpdate?.toISOString() ?? null,
    last_any_change: history.lastAnyChange?.toISOString() ?? null,
    updates_seen: history.updates,
    ...(history.lastUpdateLabel ? { last_update_item: history.lastUpdateLabel } : {}),
  };
  if (history.lastUpdate === null) {
    return unknown('no_history', method, `no update found in ${source}`, facts);
  }
  const elapsed = now.getTime() - history.lastUpdate.getTime();
  if (elapsed < 0) facts.clock_skew = true; // an update "in the future": the clock moved; count it as today
  const days = Math.max(0, Math.floor(elapsed / DAY_MS));
  return known(days, method, `last update ${history.lastUpdate.toISOString()}${history.lastUpdateLabel ? ` (${history.lastUpdateLabel})` : ''} per ${source}: ${days} day(s) ago`, facts);
}

/** `2019-07-10  16:38:10` / `2016-08-06 17:35:39` in the host's local time (these logs carry no zone). */
export function parseLocalDateTime(text: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(y as number, (mo as number) - 1, d, h, mi, s ?? 0);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** ISO 8601 with a `+HHMM` offset (dnf, pacman) or `Z`. */
export function parseOffsetDateTime(text: string): Date | null {
  // `+0200` and `+02` (RHEL 8's dnf.rpm.log writes `2022-03-28T14:31:28+00`) → `+02:00`.
  const normalised = text
    .trim()
    .replace(/([+-])(\d{2})(\d{2})$/, '$1$2:$3')
    .replace(/(T\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?[+-]\d{2})$/, '$1:00');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(normalised)) return null;
  const date = new Date(normalised);
  return Number.isNaN(date.getTime()) ? null : date;
}
