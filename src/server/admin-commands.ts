/**
 * `ztna-server keys create | list | revoke` (SPEC 7.4) and the org lookup that every admin
 * command shares: onboarding without curl. Functions from a store and options to data; the
 * CLI (entry.ts) prints it.
 *
 * Invariants:
 * - A named org must exist: a typo in `--org` is an error naming the orgs there are, never a
 *   new, empty org — unless `--create-org` says so (SPEC 7.4).
 * - A key is shown once, in the answer to `create`; the database keeps its hash.
 */
import { findOrCreateOrg } from './domain/orgs.ts';
import { createAuthKey } from './domain/tables/auth-keys.ts';
import { eq } from './store/query.ts';
import type { Store } from './store/store.ts';
import type { AuthKeyRow } from './store/tables.ts';
import { isoOf } from './store/tables.ts';
import { TAG } from '../shared/wire.ts';
import { UsageError } from './usage-error.ts';

export interface OrgChoice {
  readonly org: string;
  readonly createOrg?: boolean;
}

/** The org named `--org`: found, or created only with `--create-org`. */
export async function requireOrg(store: Store, choice: OrgChoice, now: Date): Promise<{ id: string; name: string; created: boolean }> {
  const name = choice.org.trim();
  if (name === '' || name.length > 200) throw new UsageError('--org: a name of 1 to 200 characters');
  const existing = await store.selectOne('orgs', [eq('name', name)]);
  if (existing) return { id: existing.id, name, created: false };
  if (choice.createOrg) {
    const { org, created } = await findOrCreateOrg(store, name, now);
    return { id: org.id, name, created };
  }
  const names = (await store.select('orgs', { columns: ['name'], order: [{ column: 'name', descending: false }], limit: 20 })).map((row) => row.name);
  throw new UsageError(
    `no organisation "${name}" here (${names.length === 0 ? 'this database has none yet: create one with `ztna-server bootstrap --org NAME`' : `there are: ${names.map((known) => `"${known}"`).join(', ')}`}); check --org and --data/--db, or pass --create-org to create it`,
  );
}

/** "30d", "12h", "45m" or "never" → seconds (null for never). */
export function parseDuration(value: string, option: string): number | null {
  if (value === 'never') return null;
  const match = /^(\d{1,6})([mhd])$/.exec(value.trim());
  const seconds = match ? Number(match[1]) * { m: 60, h: 3600, d: 86_400 }[match[2] as 'm' | 'h' | 'd'] : NaN;
  if (!match || seconds < 60 || seconds > 3650 * 86_400) throw new UsageError(`${option}: a duration such as 30d, 12h or 45m (1 minute to 3650 days), or "never"; got "${value}"`);
  return seconds;
}

export function parseTags(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  const tags = [...new Set(value.split(',').map((tag) => tag.trim()))];
  const bad = tags.find((tag) => !TAG.test(tag));
  if (bad !== undefined) throw new UsageError(`--tags: "${bad}" is not a tag (lower-case letters, digits and dashes, starting with a letter or digit)`);
  if (tags.length > 32) throw new UsageError('--tags: at most 32 tags');
  return tags;
}

export interface KeysCreateOptions extends OrgChoice {
  readonly reusable?: boolean;
  readonly expires?: string;
  readonly tags?: string;
  readonly description?: string;
}

/** What `keys create` prints (SPEC 7.4): the key, once. */
export interface CreatedKey {
  id: string;
  key: string;
  expires_at: string | null;
  reusable: boolean;
  tags: string[];
  description: string;
  org_id: string;
}

export async function keysCreate(store: Store, options: KeysCreateOptions, now: Date): Promise<CreatedKey> {
  const expires = parseDuration(options.expires ?? '90d', '--expires');
  const tags = parseTags(options.tags);
  const description = (options.description ?? '').trim();
  if (description.length > 200) throw new UsageError('--description: at most 200 characters');
  const org = await requireOrg(store, options, now);
  const { row, key } = await createAuthKey(
    store,
    org.id,
    { description, reusable: options.reusable === true, tags, expires_at: expires === null ? null : new Date(now.getTime() + expires * 1000).toISOString() },
    now,
  );
  return { id: row.id, key, expires_at: row.expires_at === null ? null : isoOf(row.expires_at), reusable: row.reusable, tags: row.tags, description: row.description, org_id: org.id };
}

/** A key as `keys list` shows it: never the key or its hash. */
export interface ListedKey {
  id: string;
  description: string;
  key_prefix: string;
  reusable: boolean;
  tags: string[];
  expires_at: string | null;
  used_count: number;
  last_used_at: string | null;
  revoked: boolean;
  created_at: string;
  /** usable | revoked | expired | used (a single-use key that was used) */
  state: 'usable' | 'revoked' | 'expired' | 'used';
}

function listed(row: AuthKeyRow, now: Date): ListedKey {
  const expiresAt = row.expires_at === null ? null : isoOf(row.expires_at);
  const state = row.revoked ? 'revoked' : expiresAt !== null && Date.parse(expiresAt) <= now.getTime() ? 'expired' : !row.reusable && row.used_count > 0 ? 'used' : 'usable';
  return {
    id: row.id,
    description: row.description,
    key_prefix: row.key_prefix,
    reusable: row.reusable,
    tags: row.tags,
    expires_at: expiresAt,
    used_count: row.used_count,
    last_used_at: row.last_used_at === null ? null : isoOf(row.last_used_at),
    revoked: row.revoked,
    created_at: isoOf(row.created_at),
    state,
  };
}

export async function keysList(store: Store, options: OrgChoice, now: Date): Promise<ListedKey[]> {
  const org = await requireOrg(store, { org: options.org }, now);
  const rows = await store.select('auth_keys', { filters: [eq('org_id', org.id)], order: [{ column: 'created_at', descending: false }] });
  return rows.map((row) => listed(row, now));
}

export async function keysRevoke(store: Store, id: string, options: OrgChoice, now: Date): Promise<ListedKey> {
  const org = await requireOrg(store, { org: options.org }, now);
  const [row] = await store.update('auth_keys', [eq('id', id), eq('org_id', org.id)], { revoked: true });
  if (!row) throw new UsageError(`no auth key ${id} in organisation "${org.name}" (\`ztna-server keys list\` shows their ids)`);
  return listed(row, now);
}
