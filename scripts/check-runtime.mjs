// Refuses to run the project's scripts on a Node older than the pinned runtime.
// npm puts node_modules/.bin first on PATH, so after `npm ci` scripts run on the
// `node` package (24.21.0). If that optional package could not be installed (a
// platform npm has no binary for, or `npm ci --ignore-scripts`), scripts would
// silently run on the system Node; this guard makes that loud instead.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `ztna needs Node.js 24 or newer, but this is ${process.version} (${process.execPath}).\n` +
      'Run `npm ci` (it installs the pinned Node 24 into node_modules), or install Node 24 ' +
      'yourself (`nvm use` reads .nvmrc).',
  );
  process.exit(1);
}
