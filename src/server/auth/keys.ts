/**
 * Node keys and auth keys. A key is `ztna_<kind>_<id>_<secret>`: the id (16 hex chars)
 * finds the row, the secret (32 random bytes) proves possession. Only the SHA-256 of
 * the whole key is stored, and the comparison is constant-time (crypto.timingSafeEqual
 * on equal-length digests), so neither the database nor response timing reveals a key.
 * A slow password hash is unnecessary: the secret has 256 bits of entropy.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type KeyKind = 'node' | 'auth';

export interface GeneratedKey {
  readonly key: string;
  readonly id: string;
  /** Hex SHA-256 of the whole key. */
  readonly hash: string;
}

const KEY_PATTERN = /^ztna_(node|auth)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function generateKey(kind: KeyKind): GeneratedKey {
  const id = randomBytes(8).toString('hex');
  const key = `ztna_${kind}_${id}_${randomBytes(32).toString('base64url')}`;
  return { key, id, hash: hashKey(key) };
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The id of a well-formed key of `kind`, or null (the caller answers 401 either way). */
export function keyId(kind: KeyKind, key: unknown): string | null {
  if (typeof key !== 'string' || key.length > 128) return null;
  const match = KEY_PATTERN.exec(key);
  return match && match[1] === kind ? (match[2] as string) : null;
}

/** The public, non-secret prefix of a key (`ztna_auth_<id>`), shown in listings. */
export function keyPrefix(kind: KeyKind, id: string): string {
  return `ztna_${kind}_${id}`;
}

export function keyMatches(key: string, storedHash: string): boolean {
  const presented = createHash('sha256').update(key).digest();
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
