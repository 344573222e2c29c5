// Bundles the CLI and server entry points (and the dashboard) into dist/ with esbuild: one ESM file per
// entry plus lazily loaded chunks (collectors for other OSes, chalk, execa, zod, …), so
// that `ztna --version` parses little and the bare Node start dominates.
// Written to a temporary directory and renamed into place, so a concurrent launcher
// never runs a half-written bundle.
import { build } from 'esbuild';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gitCommit } from './lib/build-info.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
await mkdir(join(root, 'dist'), { recursive: true });
const staging = await mkdtemp(join(root, 'dist', '.build-'));
try {
  await build({
    entryPoints: { ztna: join(root, 'src/cli/entry.ts'), 'ztna-server': join(root, 'src/server/entry.ts') },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: process.env.ZTNA_BUILD_MINIFY !== '0', // ZTNA_BUILD_MINIFY=0 keeps names for profiling
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    define: { __ZTNA_COMMIT__: JSON.stringify(gitCommit(root)) },
    // ws loads these optional native speed-ups inside try/catch; without them it uses JS.
    external: ['bufferutil', 'utf-8-validate'],
    // CommonJS dependencies inside an ESM bundle need a require().
    banner: { js: "import { createRequire as __ztnaRequire } from 'node:module'; const require = __ztnaRequire(import.meta.url);" },
  });
  await rm(outdir, { recursive: true, force: true });
  await rename(staging, outdir);
  // The admin dashboard's browser files (dist/dashboard), served by ztna-server.
  const { buildDashboard } = await import('./build-dashboard.mjs');
  await buildDashboard(root);
} catch (error) {
  await rm(staging, { recursive: true, force: true });
  console.error(`build failed: ${error.message}`);
  process.exit(1);
}
