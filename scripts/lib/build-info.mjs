// Build metadata shared by the bundlers: the commit baked into `--version`.
// Build tooling (not product code) may start processes directly: it runs on a developer or
// release machine, never on a managed device.
import { execFileSync } from 'node:child_process';

/** The short commit of the checkout, `-dirty` when it has uncommitted changes; `unknown` outside git. */
export function gitCommit(root) {
  try {
    const run = (args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
    const commit = run(['rev-parse', '--short=12', 'HEAD']);
    const dirty = run(['status', '--porcelain', '--untracked-files=no']) !== '';
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    // No git or not a checkout (e.g. a source tarball): say so rather than invent a commit.
    return 'unknown';
  }
}
