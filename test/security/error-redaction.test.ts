/**
 * Error messages may quote what a client sent; `redactSecrets` (src/server/errors.ts),
 * applied to every error body, keeps keys and tokens out of them: a `ztna_<kind>_<id>_…`
 * key keeps only its public id (however much of the secret follows), a JWT becomes
 * `<token>`. Ordinary messages are left alone.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ApiError, errorBody, redactSecrets } from '../../src/server/errors.ts';

const key = (kind: string) => `ztna_${kind}_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;

describe('redactSecrets', () => {
  it.each(['node', 'auth', 'login', 'session'])('a %s key, whole or cut short, keeps only its public id', (kind) => {
    const secret = key(kind);
    const id = secret.split('_').slice(0, 3).join('_');
    expect(redactSecrets(`unknown table "${secret}"`)).toBe(`unknown table "${id}_…"`);
    expect(redactSecrets(`risk_score: expected an integer, got "${secret.slice(0, 40)}"`)).toBe(`risk_score: expected an integer, got "${id}_…"`);
    expect(redactSecrets(`no route GET /api/${secret}/x`)).toBe(`no route GET /api/${id}_…/x`);
  });

  it('a JWT (signed or alg none) becomes <token>', async () => {
    const signed = await new SignJWT({ org_id: 'x', role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).sign(randomBytes(32));
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"org_id":"x"}').toString('base64url')}.`;
    expect(redactSecrets(`'/api/db/%E0?token=${signed}' is not valid`)).toBe("'/api/db/%E0?token=<token>' is not valid");
    expect(redactSecrets(`bad ${none} here`)).toBe('bad <token> here');
  });

  it('leaves ordinary messages alone', () => {
    for (const message of [
      'unknown table "machinez"; tables: machines, posture_reports',
      'no machine 0e8e6f65-597c-4bba-99e7-34b93a2f1b54 in this organisation',
      'expires_at: expected an ISO 8601 timestamp, got "2026-11-22T00:00:00Z"',
      'hostname: eyeball.example.com is taken',
      'ztna_node_ is not a key',
    ]) {
      expect(redactSecrets(message)).toBe(message);
    }
  });

  it('every error body goes through it', () => {
    const secret = key('node');
    // The secret part is everything after the public id (base64url has '_' of its own:
    // splitting on '_' once gave an empty "secret", which every body "contains").
    const secretPart = secret.slice('ztna_node_'.length + 16 + 1);
    expect(secretPart).toHaveLength(43);
    expect(JSON.stringify(errorBody(new ApiError('bad_request', `unknown column "${secret}"`)))).not.toContain(secretPart);
  });
});
