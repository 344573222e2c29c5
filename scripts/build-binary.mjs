// Builds the single-file executables dist/bin/ztna and dist/bin/ztna-server with Node's own
// single-executable support (SEA), offline, from the pinned runtime:
//
//   1. esbuild bundles each entry into ONE CommonJS file (a SEA entry must be CommonJS on
//      Node 24, and inside a SEA `require`/`import()` reach only built-in modules, so
//      nothing may stay outside the bundle). Dynamic imports become lazily evaluated
//      wrappers, so rarely used code is parsed but not run at start.
//   2. `node --experimental-sea-config` turns the bundle into a blob with a V8 code cache
//      (startup ~40% faster) and the dashboard files as assets (`dashboard/<file>`).
//      The blob generator must be the very Node build that is embedded.
//   3. A copy of that Node binary (symbols stripped on Linux: -18 MB) gets the blob
//      injected with postject, and is signed ad hoc on macOS.
//
// Usage: node scripts/build-binary.mjs [--target OS-ARCH --node PATH] [--out DIR] [--force]
//   Without --target: the host platform, embedding the Node that runs this script (the
//   pinned 24.21.0 from `npm run build:binary`).
//   --node PATH alone: the host platform, embedding that Node 24.21.0 binary (for a host
//   where npm has no pinned runtime, e.g. macOS; run the script with any Node ≥ 22).
//   --target linux-arm64|darwin-x64|darwin-arm64|win-x64 --node PATH: a release machine's
//   cross build, embedding the official Node 24.21.0 binary for that target at PATH. The
//   code cache is host-specific, so cross builds go without it (slower start); building on
//   each OS natively is better (see README, "Single-file binaries").
// Skips the work when the bundle, assets and base binary are unchanged (a stamp file).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { gitCommit } from './lib/build-info.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const REQUIRED_NODE = '24.21.0';
// Fixed by Node: the sentinel its SEA loader looks for.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const PROGRAMS = { ztna: 'src/cli/entry.ts', 'ztna-server': 'src/server/entry.ts' };
const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win-x64'];

function fail(message) {
  console.error(`build-binary: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { out: join(root, 'dist', 'bin'), force: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? fail(`${arg} needs a value`);
    if (arg === '--target') options.target = value();
    else if (arg === '--node') options.node = resolve(value());
    else if (arg === '--out') options.out = resolve(value());
    else if (arg === '--force') options.force = true;
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: node scripts/build-binary.mjs [--target OS-ARCH --node PATH] [--out DIR] [--force]\n' + `targets: ${TARGETS.join(', ')}`);
      process.exit(0);
    } else fail(`unknown argument "${arg}" (see --help)`);
  }
  return options;
}

const hostTarget = () => `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;

async function sha256(...parts) {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(typeof part === 'string' ? part : Buffer.from(part));
  return hash.digest('hex');
}

/** The dashboard's built files (dist/dashboard/*), embedded as SEA assets when present. */
async function dashboardAssets() {
  const dir = join(root, 'dist', 'dashboard');
  if (!existsSync(dir)) return {};
  const assets = {};
  for (const name of (await readdir(dir)).sort()) {
    if ((await stat(join(dir, name))).isFile()) assets[`dashboard/${name}`] = join(dir, name);
  }
  return assets;
}

async function buildDashboardIfAvailable() {
  const builder = join(root, 'scripts', 'build-dashboard.mjs');
  if (!existsSync(builder)) return;
  const { buildDashboard } = await import(builder);
  await buildDashboard(root);
}

async function bundle(entry, outfile, commit) {
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { __ZTNA_COMMIT__: JSON.stringify(commit) },
    // ws loads these optional native speed-ups inside try/catch; without them it uses JS.
    external: ['bufferutil', 'utf-8-validate'],
  });
}

/**
 * postject's LIEF prints a warning per ELF note section it cannot name after `strip`
 * ("Can't find string offset for section name '.note.100'"); harmless, so filtered.
 */
async function injectQuietly(file, blob, darwin) {
  const { inject } = require('postject');
  const noise = /Can't find string offset for section name/;
  const original = { log: console.log, warn: console.warn, error: console.error };
  for (const level of Object.keys(original)) {
    console[level] = (...args) => {
      if (!noise.test(String(args[0]))) original[level](...args);
    };
  }
  try {
    await inject(file, 'NODE_SEA_BLOB', blob, { sentinelFuse: SEA_FUSE, machoSegmentName: darwin ? 'NODE_SEA' : undefined, overwrite: true });
  } finally {
    Object.assign(console, original);
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const host = hostTarget();
  const target = options.target ?? host;
  if (!TARGETS.includes(target) && target !== host) fail(`unknown target "${target}"; one of ${TARGETS.join(', ')}`);
  const cross = target !== host;
  if (cross && !options.node) fail(`--target ${target} needs --node PATH: the official Node ${REQUIRED_NODE} binary for ${target}`);
  const baseNode = options.node ?? process.execPath;
  if (!existsSync(baseNode)) fail(`no Node binary at ${baseNode}`);
  if (options.node) {
    // Node embeds its release URL; a different version would reject (or crash on) the blob.
    const marker = `/release/v${REQUIRED_NODE}/`;
    if (!(await readFile(baseNode)).includes(marker)) fail(`${baseNode} does not look like Node ${REQUIRED_NODE} (no "${marker}" inside)`);
  }
  // The blob generator must be the embedded Node's version: the given host binary itself,
  // or for a cross build the (same-version) Node running this script.
  const generator = options.node && !cross ? options.node : process.execPath;
  if (generator === process.execPath && process.versions.node !== REQUIRED_NODE) {
    fail(`run on the pinned Node ${REQUIRED_NODE} (\`npm run build:binary\` does), not ${process.version}, or pass --node PATH to a Node ${REQUIRED_NODE} binary`);
  }

  const started = performance.now();
  await buildDashboardIfAvailable();
  const assets = await dashboardAssets();
  const commit = gitCommit(root);
  const windows = target.startsWith('win');
  const darwin = target.startsWith('darwin');
  await mkdir(options.out, { recursive: true });
  const work = await mkdtemp(join(root, 'dist', '.binary-'));
  try {
    const baseInfo = await stat(baseNode);
    for (const [program, entry] of Object.entries(PROGRAMS)) {
      const output = join(options.out, windows ? `${program}.exe` : program);
      const bundlePath = join(work, `${program}.cjs`);
      await bundle(entry, bundlePath, commit);
      const assetBytes = await Promise.all(Object.values(assets).map((path) => readFile(path)));
      const stampPath = join(options.out, `.${program}-${target}.stamp`);
      const stamp = await sha256(await readFile(bundlePath), JSON.stringify(Object.keys(assets)), ...assetBytes, `${baseNode}:${baseInfo.size}:${baseInfo.mtimeMs}:${target}`);
      if (!options.force && existsSync(output) && existsSync(stampPath) && (await readFile(stampPath, 'utf8')) === stamp) {
        console.log(`${output}: up to date`);
        continue;
      }
      const blobPath = join(work, `${program}.blob`);
      const configPath = join(work, `${program}.sea.json`);
      await writeFile(
        configPath,
        JSON.stringify({ main: bundlePath, output: blobPath, disableExperimentalSEAWarning: true, useCodeCache: !cross, useSnapshot: false, assets }, null, 2),
      );
      try {
        execFileSync(generator, ['--experimental-sea-config', configPath], { stdio: 'pipe', timeout: 120_000 });
      } catch (error) {
        fail(`could not generate the SEA blob for ${program}: ${error.stderr?.toString().trim() || error.message}`);
      }

      const staged = join(work, `${program}.exe`);
      await copyFile(baseNode, staged);
      await chmod(staged, 0o755);
      if (target.startsWith('linux') && !cross) {
        // Debug symbols are 18 MB of the 126 MB; nothing at run time needs them.
        try {
          execFileSync('strip', ['--strip-all', staged], { stdio: 'ignore', timeout: 120_000 });
        } catch {
          console.warn('build-binary: `strip` is not available; the binary keeps its symbols (18 MB larger)');
        }
      }
      if (darwin && process.platform === 'darwin') execFileSync('codesign', ['--remove-signature', staged], { stdio: 'inherit' });
      await injectQuietly(staged, await readFile(blobPath), darwin);
      if (darwin) {
        if (process.platform === 'darwin') execFileSync('codesign', ['--sign', '-', staged], { stdio: 'inherit' });
        else console.warn(`build-binary: ${output} is unsigned; sign it on a Mac (\`codesign --sign - ${program}\`) before it will run on Apple silicon`);
      }
      await rename(staged, output).catch(async (error) => {
        if (error.code !== 'EXDEV') throw error;
        // --out on another file system: copy beside the target, then rename atomically.
        await copyFile(staged, `${output}.tmp`);
        await rename(`${output}.tmp`, output);
      });
      await writeFile(stampPath, stamp);
      const size = (await stat(output)).size;
      console.log(`${output}: ${(size / 1e6).toFixed(1)} MB, ${target}, commit ${commit}${cross ? ', no code cache (cross build)' : ''}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  console.log(`build-binary: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
