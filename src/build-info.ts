/**
 * What `--version` prints: the package version, the commit it was built from, the runtime
 * and how it is packaged. The commit is baked in by the bundlers (scripts/build.mjs and
 * scripts/build-binary.mjs) through esbuild's `define`; running the TypeScript sources
 * directly (tests) has no commit and says `dev`.
 */
import type * as Sea from 'node:sea';
import { AGENT_VERSION } from './version.ts';

declare const __ZTNA_COMMIT__: string | undefined;

export const BUILD_COMMIT: string = typeof __ZTNA_COMMIT__ === 'string' && __ZTNA_COMMIT__ !== '' ? __ZTNA_COMMIT__ : 'dev';

/** True inside a single-file executable built by scripts/build-binary.mjs (Node SEA). */
export function isSingleExecutable(): boolean {
  const sea = process.getBuiltinModule('node:sea') as typeof Sea | undefined;
  return sea?.isSea() === true;
}

/** e.g. `ztna 0.1.0 (commit 1a2b3c4, node 24.21.0, linux/x64, single-file binary)`. */
export function versionLine(program: 'ztna' | 'ztna-server'): string {
  const packaging = isSingleExecutable() ? 'single-file binary' : 'node bundle';
  return `${program} ${AGENT_VERSION} (commit ${BUILD_COMMIT}, node ${process.versions.node}, ${process.platform}/${process.arch}, ${packaging})`;
}
