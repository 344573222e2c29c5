/**
 * Admin tokens: HS256 JWTs carrying `org_id` and `role`. The algorithm is pinned on
 * verification (no `alg: none`, no algorithm confusion), `exp`, `iss` and `aud` are
 * required, and the org comes only from the verified claims.
 *
 * The signing secret comes from ZTNA_JWT_SECRET (at least 32 bytes), or is generated
 * once into `<data>/jwt-secret` with mode 0600 (and refused if others can read it) and reused, so tokens minted by
 * `ztna-server bootstrap` work against the running server on the same data directory.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import { checkDataDirectory, createPrivateFile, readPrivateFile } from '../data-dir.ts';

const ISSUER = 'ztna-server';
const AUDIENCE = 'ztna-admin';
const ALGORITHM = 'HS256';
export const DEFAULT_TOKEN_TTL_S = 7 * 24 * 3600;

export interface AdminClaims {
  readonly orgId: string;
  readonly role: 'admin';
  readonly subject: string;
  /**
   * When the credential expires (ms since the epoch): long-lived connections (realtime)
   * are closed then. Absent for credentials whose expiry is checked elsewhere.
   */
  readonly expiresAt?: number;
}

export interface TokenService {
  mint(claims: { orgId: string; subject?: string; ttlSeconds?: number }): Promise<string>;
  /** The verified claims, or null for anything that is not a valid, unexpired admin token. */
  verify(token: string): Promise<AdminClaims | null>;
}

export function createTokenService(secret: Uint8Array, now: () => Date = () => new Date()): TokenService {
  if (secret.length < 32) throw new Error('the JWT secret must be at least 32 bytes');
  return {
    async mint({ orgId, subject = 'admin', ttlSeconds = DEFAULT_TOKEN_TTL_S }) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      return new SignJWT({ org_id: orgId, role: 'admin' })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(subject)
        .setJti(randomUUID()) // every token is distinct, even two minted in the same second
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .sign(secret);
    },
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
      try {
        const { payload } = await jwtVerify(token, secret, {
          algorithms: [ALGORITHM],
          issuer: ISSUER,
          audience: AUDIENCE,
          requiredClaims: ['exp', 'org_id', 'role'],
          currentDate: now(),
        });
        if (typeof payload.org_id !== 'string' || payload.role !== 'admin') return null;
        return { orgId: payload.org_id, role: 'admin', subject: typeof payload.sub === 'string' ? payload.sub : 'admin', expiresAt: (payload.exp as number) * 1000 };
      } catch {
        return null; // forged, expired, wrong algorithm, malformed: all simply "not a token"
      }
    },
  };
}

/**
 * The signing secret: ZTNA_JWT_SECRET, else `<dataDir>/jwt-secret`, created 0600 if
 * missing. The directory and the file are checked like the agent's enrollment (owner,
 * mode, no symbolic links: data-dir.ts); a secret others could read is refused.
 */
export async function loadJwtSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Uint8Array> {
  const fromEnv = env.ZTNA_JWT_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (Buffer.byteLength(fromEnv) < 32) throw new Error('ZTNA_JWT_SECRET must be at least 32 bytes long');
    return new TextEncoder().encode(fromEnv);
  }
  await checkDataDirectory(dataDir);
  const path = join(dataDir, 'jwt-secret');
  const what = 'whoever reads it can mint admin tokens for every org';
  const read = async (): Promise<Uint8Array | null> => {
    const existing = (await readPrivateFile(path, what))?.trim();
    if (existing === undefined) return null;
    if (existing.length >= 43) return new TextEncoder().encode(existing);
    throw new Error(`${path} is too short to be a signing secret; delete it to generate a new one (existing tokens stop working)`);
  };
  const found = await read();
  if (found) return found;
  const secret = randomBytes(48).toString('base64url');
  // Exclusive create: if bootstrap and serve race to create it, exactly one wins and both read it back.
  if (await createPrivateFile(path, `${secret}\n`)) return new TextEncoder().encode(secret);
  const winner = await read();
  if (!winner) throw new Error(`${path} vanished while it was being created; try again`);
  return winner;
}
