/**
 * The per-platform registry: which collectors answer each signal on each OS. This is
 * the only place that maps a platform to code; each platform's modules are loaded only
 * on that platform (dynamic import), so a CLI run never parses the other OSes' code.
 */
import type { PlatformCollectors } from './types.ts';

const REGISTRY: Partial<Record<NodeJS.Platform, () => Promise<PlatformCollectors>>> = {
  linux: async () => (await import('./linux/index.ts')).linuxCollectors,
  darwin: async () => (await import('./darwin/index.ts')).darwinCollectors,
  win32: async () => (await import('./windows/index.ts')).windowsCollectors,
};

/** The collectors for `platform`, or null when ztna has none for it. */
export async function collectorsFor(platform: NodeJS.Platform): Promise<PlatformCollectors | null> {
  const load = REGISTRY[platform];
  return load ? load() : null;
}
