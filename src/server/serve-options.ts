/**
 * The command-line options of `ztna-server` that need more than commander's parsing:
 * client-address trust and limits (SPEC 7.1) and the database URL, which must not carry a
 * password on the command line (argv is world-readable in `ps` and lands in service
 * units). Pure functions: they return values or throw `OptionError` with a message that
 * says what to do.
 */
import { isIP } from 'node:net';

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

/** `--trust-proxy CIDR[,CIDR…]`: addresses or ranges, e.g. `10.0.0.0/8,::1`. */
export function parseTrustProxy(value: string): string[] {
  const entries = value.split(',').map((entry) => entry.trim());
  return entries.map((entry) => {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !validPrefix || rest.length > 0) {
      throw new OptionError(`--trust-proxy: "${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.10, fd00::/8); list your load balancers' addresses, comma-separated`);
    }
    if (prefix !== undefined && Number(prefix) === 0) {
      throw new OptionError(`--trust-proxy: "${entry}" trusts every address, which would let any client choose its own address (and its own rate-limit budget); name your proxies' ranges`);
    }
    return entry;
  });
}

/** A positive whole number per minute (`--register-rate`, `--auth-fail-rate`). */
export function parseRate(flag: string, value: string): number {
  if (!/^\d{1,9}$/.test(value.trim()) || Number(value) < 1) throw new OptionError(`${flag}: a whole number of requests per minute per client address, at least 1 (got "${value}")`);
  return Number(value);
}

/**
 * The PostgreSQL URL: `--db`, else `ZTNA_DB_URL`. A password inside `--db` is refused —
 * the environment variable (or the PostgreSQL client's own PGPASSWORD / PGPASSFILE) keeps
 * it out of the process list. Returns undefined for SQLite.
 */
export function resolveDatabaseUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag !== undefined) {
    // URL.parse for what it understands; the pattern for what it does not (a space in the password).
    if (URL.parse(flag)?.password || /^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(flag)) {
      throw new OptionError(
        '--db: this URL carries a password, which every user can read in the process list (and which would be written into the service unit). ' +
          'Give the URL in the ZTNA_DB_URL environment variable instead, or leave the password out and let the PostgreSQL client find it in PGPASSWORD or PGPASSFILE (~/.pgpass)',
      );
    }
    return flag;
  }
  const fromEnv = env.ZTNA_DB_URL;
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
