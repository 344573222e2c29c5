/**
 * Secrets are compared in constant time (no timing tests: they flake, and they prove
 * little). Instead:
 * - a unit test of the one comparison helper, `keyMatches` (src/server/auth/keys.ts): it
 *   hashes the presented key and compares the two 32-byte SHA-256 digests with
 *   crypto.timingSafeEqual — spied on, so the test sees every call and its arguments —
 *   and answers false without comparing when the stored value is not a digest;
 * - code-level assertions over src/server: every read of a stored hash column (`*_hash`)
 *   is an argument of keyMatches, no hash is ever compared with === / !==, every
 *   timingSafeEqual is guarded by an equal-length check, and admin tokens are verified by
 *   jose, whose HMAC check is WebCrypto's `subtle.verify` (not a string comparison).
 */
import { createHash } from 'node:crypto';
import type * as NodeCrypto from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ROOT } from '../support/cli.ts';

const spy = vi.hoisted(() => ({ calls: [] as Array<[Buffer, Buffer]> }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      spy.calls.push([Buffer.from(a as Uint8Array), Buffer.from(b as Uint8Array)]);
      return actual.timingSafeEqual(a, b);
    },
  };
});

const { generateKey, hashKey, keyMatches } = await import('../../src/server/auth/keys.ts');

beforeEach(() => {
  spy.calls.length = 0;
});

describe('keyMatches (the comparison helper)', () => {
  it('compares the SHA-256 digests of the presented and stored key with timingSafeEqual', () => {
    const { key, hash } = generateKey('node');
    expect(keyMatches(key, hash)).toBe(true);
    expect(spy.calls).toHaveLength(1);
    const [presented, stored] = spy.calls[0] as [Buffer, Buffer];
    expect(presented.length).toBe(32);
    expect(stored.length).toBe(32);
    expect(presented.equals(createHash('sha256').update(key).digest())).toBe(true);
    expect(stored.toString('hex')).toBe(hash);
  });

  it('a wrong key of any length is compared the same way (digests are always 32 bytes) and refused', () => {
    const { key, hash } = generateKey('auth');
    // The last character changed to one it is not (a fixed 'A' equals it 1 time in 64).
    const lastChanged = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    for (const wrong of [lastChanged, key.slice(0, -1), `${key}x`, '', 'x'.repeat(10_000), key.toUpperCase()]) {
      spy.calls.length = 0;
      expect(keyMatches(wrong, hash), wrong.slice(0, 20)).toBe(false);
      expect(spy.calls, 'one constant-time comparison per check').toHaveLength(1);
      expect(spy.calls[0]?.map((buffer) => buffer.length)).toEqual([32, 32]);
    }
  });

  it('a stored value that is not a SHA-256 digest never matches (and is not compared)', () => {
    const { key } = generateKey('node');
    for (const stored of ['', 'not-hex', hashKey(key).slice(0, 62), `${hashKey(key)}00`, key]) {
      spy.calls.length = 0;
      expect(keyMatches(key, stored)).toBe(false);
      expect(spy.calls).toHaveLength(0);
    }
  });

  it('hashKey is SHA-256 of the whole key, hex', () => {
    const { key, hash } = generateKey('auth');
    expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hashKey(key)).toBe(hash);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('code-level: every secret comparison in the server is constant-time', () => {
  const files = sourceFiles(join(ROOT, 'src/server')).map((path) => ({ path: relative(ROOT, path), lines: readFileSync(path, 'utf8').split('\n') }));

  it('finds the server sources', () => {
    expect(files.map((file) => file.path)).toEqual(expect.arrayContaining(['src/server/auth/keys.ts', 'src/server/domain/machines.ts', 'src/server/auth/tokens.ts']));
  });

  it('a stored hash column is only ever read to be passed to keyMatches, never compared with === or !==', () => {
    const reads: string[] = [];
    for (const { path, lines } of files) {
      lines.forEach((line, index) => {
        // Property reads (row.key_hash, row['token_hash']); object-literal keys are writes.
        if (!/\.\w+_hash\b|\[['"]\w+_hash['"]\]/.test(line)) return;
        reads.push(`${path}:${index + 1}`);
        expect(line, `${path}:${index + 1} reads a hash outside keyMatches`).toMatch(/keyMatches\(/);
        expect(line, `${path}:${index + 1} compares a hash with ===`).not.toMatch(/_hash\W*\)?\s*[!=]==|[!=]==\s*\S*_hash/);
      });
    }
    // Registration (auth keys) and every agent route (node keys) authenticate this way.
    expect(reads.some((where) => where.startsWith('src/server/domain/machines.ts'))).toBe(true);
    const machines = readFileSync(join(ROOT, 'src/server/domain/machines.ts'), 'utf8');
    expect(machines).toMatch(/keyMatches\(request\.auth_key, key\.key_hash\)/);
    expect(machines).toMatch(/keyMatches\(nodeKey, machine\.node_key_hash\)/);
  });

  it('keyMatches itself: equal-length digests into timingSafeEqual, nothing else', () => {
    const source = readFileSync(join(ROOT, 'src/server/auth/keys.ts'), 'utf8');
    const body = /export function keyMatches[\s\S]*?\n}/.exec(source)?.[0] ?? '';
    expect(body).toMatch(/createHash\('sha256'\)\.update\(key\)\.digest\(\)/);
    expect(body).toMatch(/stored\.length === presented\.length && timingSafeEqual\(presented, stored\)/);
    expect(body.match(/===/g)).toHaveLength(1); // the length check only
  });

  it('every timingSafeEqual in the server is guarded by an equal-length check', () => {
    let uses = 0;
    for (const { path, lines } of files) {
      lines.forEach((line, index) => {
        if (!/timingSafeEqual\(/.test(line) || /^\s*(import|\*|\/\/)/.test(line)) return;
        uses += 1;
        expect(line, `${path}:${index + 1}`).toMatch(/\.length === \w+\.length && timingSafeEqual\(/);
      });
    }
    expect(uses).toBeGreaterThanOrEqual(1);
  });

  it('admin tokens are verified by jose with the algorithm pinned; its HMAC check is WebCrypto subtle.verify', () => {
    const tokens = readFileSync(join(ROOT, 'src/server/auth/tokens.ts'), 'utf8');
    expect(tokens).toMatch(/jwtVerify\(token, secret, \{\s*algorithms: \[ALGORITHM\]/);
    expect(tokens).toMatch(/const ALGORITHM = 'HS256';/);
    expect(tokens).not.toMatch(/createHmac|\.signature\s*[!=]==/);
    const jose = readFileSync(join(ROOT, 'node_modules/jose/dist/webapi/lib/jws_verify.js'), 'utf8');
    expect(jose).toMatch(/verified = await crypto\.subtle\.verify\(/);
  });
});
