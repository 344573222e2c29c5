/**
 * Where the dashboard's static files come from (built by scripts/build-dashboard.mjs):
 * inside a Node single-executable, its SEA assets named `dashboard/<file>`; otherwise
 * `dist/dashboard/` of the checkout the server runs from — found by walking up from this
 * module to the folder holding package.json, which works both for the bundle
 * (dist/bundle/…) and for sources run directly (tests import src/server/app.ts).
 *
 * Invariants: only plain file names are served (no paths, no dot-files), so a request can
 * never read outside the asset set; a missing build is reported (null), never thrown.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardAsset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

export interface DashboardAssets {
  /** Where the assets are read from, for messages. */
  readonly source: string;
  /** The file, or null when it is not there (or the name is not a plain asset name). */
  get(name: string): DashboardAsset | null;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+$/;

function asset(name: string, body: Buffer): DashboardAsset {
  return {
    body,
    contentType: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
}

function seaModule(): SeaModule | null {
  try {
    const sea = process.getBuiltinModule('node:sea') as SeaModule | undefined;
    return sea?.isSea() ? sea : null;
  } catch {
    return null; // a runtime without node:sea is not a single executable
  }
}

/** The folder holding package.json at or above `start`, or null. */
export function projectRoot(start: string): string | null {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function defaultDirectory(): string | null {
  let here: string;
  try {
    here = dirname(fileURLToPath(import.meta.url));
  } catch {
    return null; // no file URL (an unusual bundling): nothing to walk up from
  }
  const root = projectRoot(here);
  return root === null ? null : join(root, 'dist', 'dashboard');
}

/** Reads from a directory; a file's cached copy is reused while its size and mtime stay the same. */
function directoryAssets(dir: string): DashboardAssets {
  const cache = new Map<string, { mtimeMs: number; size: number; asset: DashboardAsset }>();
  return {
    source: dir,
    get(name) {
      if (!ASSET_NAME.test(name)) return null;
      const path = join(dir, name);
      let stats;
      try {
        stats = statSync(path);
      } catch {
        return null;
      }
      if (!stats.isFile()) return null;
      const cached = cache.get(name);
      if (cached && cached.mtimeMs === stats.mtimeMs && cached.size === stats.size) return cached.asset;
      try {
        const loaded = asset(name, readFileSync(path));
        cache.set(name, { mtimeMs: stats.mtimeMs, size: stats.size, asset: loaded });
        return loaded;
      } catch {
        return null; // replaced between stat and read by a concurrent build: the next request sees the new file
      }
    },
  };
}

function seaAssets(sea: SeaModule): DashboardAssets {
  const cache = new Map<string, DashboardAsset | null>();
  return {
    source: 'the single-executable assets (dashboard/*)',
    get(name) {
      if (!ASSET_NAME.test(name)) return null;
      if (!cache.has(name)) {
        let loaded: DashboardAsset | null;
        try {
          loaded = asset(name, Buffer.from(sea.getAsset(`dashboard/${name}`)));
        } catch {
          loaded = null; // not embedded
        }
        cache.set(name, loaded);
      }
      return cache.get(name) ?? null;
    },
  };
}

/** The dashboard's assets: `dir` when given, else the SEA's, else the checkout's dist/dashboard. */
export function dashboardAssets(options: { dir?: string } = {}): DashboardAssets {
  if (options.dir !== undefined) return directoryAssets(options.dir);
  const sea = seaModule();
  if (sea) return seaAssets(sea);
  const dir = defaultDirectory();
  return dir === null ? { source: 'dist/dashboard (not found: no package.json above the server module)', get: () => null } : directoryAssets(dir);
}
