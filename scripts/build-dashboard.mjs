// Builds the admin dashboard (src/dashboard/) into dist/dashboard/: index.html, app.js
// (esbuild, one browser bundle, no CDN), app.css, favicon.svg, and app.js.map. The server
// serves these files (src/server/dashboard/assets.ts); the single-file binary embeds them
// as assets named `dashboard/<file>`.
// Written to a temporary directory and renamed into place, so a server reading the
// assets never sees a half-written build.
import { build } from 'esbuild';
import { copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Files copied as they are from src/dashboard/. */
const STATIC_FILES = ['index.html', 'app.css', 'favicon.svg'];

/** Builds dist/dashboard/ under `root` (the checkout); resolves when it is in place. */
export async function buildDashboard(root) {
  const source = join(root, 'src', 'dashboard');
  const outdir = join(root, 'dist', 'dashboard');
  await mkdir(join(root, 'dist'), { recursive: true });
  const staging = await mkdtemp(join(root, 'dist', '.dashboard-'));
  try {
    await build({
      entryPoints: { app: join(source, 'main.ts') },
      outdir: staging,
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: ['chrome110', 'firefox115', 'safari16', 'edge110'],
      minify: true,
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'warning',
      tsconfig: join(source, 'tsconfig.json'),
    });
    for (const file of STATIC_FILES) await copyFile(join(source, file), join(staging, file));
    // Swap directories: the old build moves aside first (a directory cannot be renamed
    // over a non-empty one), so dist/dashboard is missing only between two renames.
    const previous = `${staging}.old`;
    await rename(outdir, previous).catch((error) => {
      if (error.code !== 'ENOENT') throw error;
    });
    try {
      await rename(staging, outdir);
    } catch (error) {
      // A concurrent build of the same sources put its output in place first: keep it.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      await rm(staging, { recursive: true, force: true });
    }
    await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return outdir;
}

// `node scripts/build-dashboard.mjs` builds the checkout this script belongs to.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    console.log(`dashboard built in ${await buildDashboard(root)}`);
  } catch (error) {
    console.error(`dashboard build failed: ${error.message}`);
    process.exit(1);
  }
}
