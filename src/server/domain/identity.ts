/**
 * Who a machine is, for access rules (SPEC 7.1). A device chooses its hostname, so a
 * hostname is never an identity an attacker cannot claim: it is never compared with a
 * machine id, it may not look like one (or like a typed selector), and inside an org it
 * is unique — a second `laptop` enrolls as `laptop-2`, so a rule naming `host:laptop`
 * keeps meaning the machine that had the name first.
 *
 * Selectors (`acl_rules.src` / `dst`): a comma-separated list of
 *   `*`                everything in the org
 *   `id:<uuid>`        one machine, by the id the server gave it (preferred)
 *   `tag:<tag>`        machines an admin tagged (tags come only from admins: auth keys, PATCH)
 *   `host:<hostname>`  the machine that holds that (device-chosen) hostname
 * A bare UUID means `id:`; any other bare word means `host:`. Hostnames compare by
 * `hostnameKey` (Unicode NFKC, lower case), as DNS compares names case-insensitively.
 * Writes are validated strictly (an unknown `kind:` is a 400, not a silent host name);
 * evaluation is lenient and fails closed: an entry it cannot read matches nothing.
 */
import { ApiError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { MachineRow } from '../store/tables.ts';
import { TAG } from '../../shared/wire.ts';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Tags, as SPEC 7.1 fixes them: lower-case letters, digits and dashes, 1–63 characters. */
/** Tags admins grant (SPEC 7.1); the pattern lives with the wire contract. */
export { TAG };
const SELECTOR_PREFIX = /^(tag|id|host):/i;
export const MAX_HOSTNAME_LENGTH = 255;

/** The form hostnames are compared in (uniqueness, `host:` selectors). */
export function hostnameKey(hostname: string): string {
  return hostname.normalize('NFKC').toLowerCase();
}

/**
 * Why `hostname` cannot be a machine's name, or null. (Control, format and separator
 * characters are refused for every string before this runs: src/shared/text.ts.)
 */
export function hostnameProblem(hostname: string): string | null {
  if (hostname.length === 0 || hostname.length > MAX_HOSTNAME_LENGTH) return `a hostname has 1 to ${MAX_HOSTNAME_LENGTH} characters`;
  if (UUID.test(hostname)) return 'a hostname may not look like a machine id (a UUID)';
  if (SELECTOR_PREFIX.test(hostname)) return 'a hostname may not start with tag:, id: or host: (ACL selector prefixes)';
  if (/[,*]/.test(hostname)) return 'a hostname may not contain commas or * (they separate and widen ACL selectors)';
  return null;
}

/** 400 `invalid_hostname` for a hostname a machine may not take. */
export function requireValidHostname(hostname: string, field = 'hostname'): void {
  const problem = hostnameProblem(hostname);
  if (problem) throw new ApiError('invalid_hostname', `${field}: ${problem}`);
}

/** How many candidate names one lookup checks (`laptop`, `laptop-2` … `laptop-64`). */
const SUFFIX_BATCH = 63;

/**
 * `requested`, or the first `requested-N` (N ≥ 2) no other machine of the org holds. Run
 * inside the transaction that inserts the machine, after locking the org (callers take the
 * org_state row FOR UPDATE), so two registrations cannot pick the same name.
 */
export async function uniqueHostname(tx: Store, orgId: string, requested: string): Promise<string> {
  for (let start = 1; ; start += SUFFIX_BATCH) {
    const candidates: string[] = [];
    for (let n = start; n < start + SUFFIX_BATCH; n++) {
      if (n === 1) {
        candidates.push(requested);
        continue;
      }
      const suffix = `-${n}`;
      candidates.push(`${requested.slice(0, MAX_HOSTNAME_LENGTH - suffix.length)}${suffix}`);
    }
    const taken = new Set(
      (
        await tx.select('machines', {
          columns: ['hostname_key'],
          filters: [
            { column: 'org_id', op: 'eq', value: orgId },
            { column: 'hostname_key', op: 'in', value: candidates.map(hostnameKey) },
          ],
        })
      ).map((row) => row.hostname_key),
    );
    const free = candidates.find((candidate) => !taken.has(hostnameKey(candidate)));
    if (free !== undefined) return free;
  }
}

export type Selector = { readonly kind: 'all' } | { readonly kind: 'id'; readonly id: string } | { readonly kind: 'tag'; readonly tag: string } | { readonly kind: 'host'; readonly key: string } | { readonly kind: 'none' };

/** One selector entry as evaluation reads it: anything unreadable becomes `none` (matches nothing). */
export function parseSelector(entry: string): Selector {
  const part = entry.trim();
  if (part === '*') return { kind: 'all' };
  const typed = /^(tag|id|host):(.*)$/is.exec(part);
  if (typed) {
    const kind = (typed[1] as string).toLowerCase();
    const value = (typed[2] as string).trim();
    if (value === '') return { kind: 'none' };
    if (kind === 'id') return UUID.test(value) ? { kind: 'id', id: value.toLowerCase() } : { kind: 'none' };
    if (kind === 'tag') return { kind: 'tag', tag: value };
    return { kind: 'host', key: hostnameKey(value) };
  }
  if (UUID.test(part)) return { kind: 'id', id: part.toLowerCase() };
  return part === '' ? { kind: 'none' } : { kind: 'host', key: hostnameKey(part) };
}

export function parseSelectorList(list: string): Selector[] {
  return list.split(',').map(parseSelector);
}

/** Whether `machine` is selected by any of `selectors`. */
export function selectorsMatch(selectors: readonly Selector[], machine: Pick<MachineRow, 'id' | 'hostname' | 'tags'>): boolean {
  return selectors.some((selector) => {
    switch (selector.kind) {
      case 'all':
        return true;
      case 'id':
        return machine.id.toLowerCase() === selector.id;
      case 'tag':
        return machine.tags.includes(selector.tag);
      case 'host':
        return hostnameKey(machine.hostname) === selector.key;
      case 'none':
        return false;
    }
  });
}

/** Why a selector list cannot be stored in a rule, or null (the strict, write-time check). */
export function selectorListProblem(list: string): string | null {
  const entries = list.split(',').map((entry) => entry.trim());
  if (entries.length > 256) return 'at most 256 selectors in one rule';
  for (const entry of entries) {
    if (entry === '') return 'an empty selector (two commas in a row, or a trailing comma)';
    if (entry === '*') continue;
    const typed = /^([A-Za-z][A-Za-z0-9_-]*):(.*)$/s.exec(entry);
    const kind = typed?.[1]?.toLowerCase();
    const value = (typed?.[2] ?? '').trim();
    if (typed && kind !== 'id' && kind !== 'tag' && kind !== 'host') return `"${entry.slice(0, 80)}": unknown selector type "${typed[1]}:"; use *, id:<machine id>, tag:<tag> or host:<hostname>`;
    if (kind === 'id' && !UUID.test(value)) return `"${entry.slice(0, 80)}": id: takes a machine id (a UUID)`;
    if (kind === 'tag' && !TAG.test(value)) return `"${entry.slice(0, 80)}": tags are lower-case letters, digits and dashes (${TAG.source})`;
    if (kind === 'host') {
      const problem = hostnameProblem(value);
      if (problem && !UUID.test(value)) return `"${entry.slice(0, 80)}": ${problem}`;
      if (value === '') return `"${entry}": host: takes a hostname`;
    }
    if (!typed && entry.includes('*')) return `"${entry.slice(0, 80)}": no wildcards in names: * alone means every machine`;
  }
  return null;
}

/**
 * The typed form of a rule's selector list written when `id or hostname` was the meaning
 * of a bare word (schema migration 5): a bare UUID becomes `id:` — or `host:` when no machine
 * of the org has that id but one is named so; any other bare word becomes `host:`. Typed
 * entries and `*` stay as they are.
 */
export function typedSelectorList(list: string, machineIds: ReadonlySet<string>, hostnameKeys: ReadonlySet<string>): string {
  return list
    .split(',')
    .map((raw) => {
      const entry = raw.trim();
      if (entry === '*' || /^(tag|id|host):/i.test(entry) || entry === '') return entry;
      if (UUID.test(entry)) return !machineIds.has(entry.toLowerCase()) && hostnameKeys.has(hostnameKey(entry)) ? `host:${entry}` : `id:${entry}`;
      return `host:${entry}`;
    })
    .join(',');
}
