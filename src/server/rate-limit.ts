/**
 * Per-client-address limits, without a dependency:
 *
 * - `RateLimiter`: a fixed-window counter of events (enrolments with a valid auth key).
 * - `FailedAuthLimiter`: a fixed-window counter of *failed* authentications (401s: a wrong
 *   node key, auth key or admin token). Once an address has failed `max` times in a
 *   window, its requests whose credentials do not authenticate get 429 instead of 401
 *   until the window ends (app.ts); valid credentials are always served (SPEC 7.1: behind
 *   a NAT or a proxy one stale key must not lock out a fleet).
 *
 * The address is the TCP peer, or with `--trust-proxy` the client a trusted proxy names.
 * Addresses are keyed by `clientKey`: IPv4 as is, IPv6 by its /64 prefix (one host
 * usually owns a whole /64, so per-address limits would not hold it back). Memory stays
 * bounded: windows that ended are dropped on the next sweep, and past `maxKeys` live
 * windows the oldest are dropped (which can only forgive, never block, a client).
 */

/** The key a client's attempts are counted under: IPv4 as is, IPv6 by its /64 prefix. */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = (ip.toLowerCase().split('%')[0] ?? '').split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const DEFAULT_MAX_KEYS = 100_000;

class FixedWindows {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(windowMs: number, now: () => number, maxKeys: number) {
    this.windowMs = windowMs;
    this.now = now;
    this.maxKeys = maxKeys;
  }

  /** The live window of `key`, if any. */
  current(key: string, now = this.now()): { start: number; count: number } | undefined {
    const window = this.windows.get(key);
    return window && now - window.start < this.windowMs ? window : undefined;
  }

  /** Counts one event for `key`; returns its window. */
  add(key: string): { start: number; count: number } {
    const now = this.now();
    let window = this.current(key, now);
    if (!window) {
      this.sweep(now);
      window = { start: now, count: 0 };
      this.windows.delete(key); // re-inserted last: the map stays ordered by window start
      this.windows.set(key, window);
    }
    window.count += 1;
    return window;
  }

  /** Whole seconds until the window that started at `start` ends (at least 1). */
  secondsLeft(start: number): number {
    return Math.max(1, Math.ceil((start + this.windowMs - this.now()) / 1000));
  }

  private sweep(now: number): void {
    if (this.windows.size < this.maxKeys / 10) return;
    for (const [key, window] of this.windows) {
      if (now - window.start < this.windowMs) break; // ordered by start: the rest are live
      this.windows.delete(key);
    }
    for (const key of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}

export class RateLimiter {
  private readonly windows: FixedWindows;
  private readonly max: number;

  constructor(max: number, windowMs: number, now: () => number = Date.now, maxKeys = DEFAULT_MAX_KEYS) {
    this.max = max;
    this.windows = new FixedWindows(windowMs, now, maxKeys);
  }

  /** Counts one attempt; returns the seconds to wait when over the limit, else 0. */
  hit(key: string): number {
    const window = this.windows.add(key);
    return window.count > this.max ? this.windows.secondsLeft(window.start) : 0;
  }
}

export class FailedAuthLimiter {
  private readonly windows: FixedWindows;
  private readonly max: number;

  constructor(max: number, windowMs: number, now: () => number = Date.now, maxKeys = DEFAULT_MAX_KEYS) {
    this.max = max;
    this.windows = new FixedWindows(windowMs, now, maxKeys);
  }

  /** Seconds `key` must wait before it may present credentials again, or 0. Counts nothing. */
  blockedFor(key: string): number {
    const window = this.windows.current(key);
    return window && window.count >= this.max ? this.windows.secondsLeft(window.start) : 0;
  }

  /** Counts one failed authentication of `key`. */
  failed(key: string): void {
    this.windows.add(key);
  }
}
