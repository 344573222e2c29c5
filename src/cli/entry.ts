/**
 * Process entry of the `ztna` CLI (run by bin/ztna). The only module that decides the
 * process's exit status: commands return data or throw ZtnaError, and this maps them to
 * 0 / 1 / 2 (SPEC section 5) and to messages that say what to do.
 */
import { CommanderError } from 'commander';
import { ZtnaError } from '../shared/errors.ts';
import { escapeUnsafe, terminalJson } from '../shared/text.ts';
import { buildProgram } from './program.ts';
import type { CliIO } from './program.ts';

const MINIMUM_NODE_MAJOR = 24;

function colorEnabled(stream: NodeJS.WriteStream): boolean {
  const noColor = process.env.NO_COLOR;
  if (noColor !== undefined && noColor !== '') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return stream.isTTY === true && process.env.TERM !== 'dumb';
}

export async function runCli(argv: readonly string[]): Promise<number> {
  const wantsJson = argv.includes('--json');
  const io: CliIO = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    interactive: process.stderr.isTTY === true && colorEnabled(process.stderr),
    color: async (json) => {
      const { Chalk } = await import('chalk');
      return new Chalk({ level: !json && colorEnabled(process.stdout) ? 2 : 0 });
    },
  };
  const major = Number(process.versions.node.split('.')[0]);
  if (major < MINIMUM_NODE_MAJOR) {
    io.stderr(`ztna: needs Node.js ${MINIMUM_NODE_MAJOR} or newer, but this is ${process.version}. Run \`npm ci\` in the ztna checkout (it installs the pinned runtime) or use the single-file binary.\n`);
    return 2;
  }
  const outcome = { exitCode: 0 };
  const program = buildProgram(io, outcome);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage mistakes are exit 2.
      return error.exitCode === 0 ? 0 : 2;
    }
    const known = error instanceof ZtnaError;
    const message = known ? error.message : `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    // Messages may quote a server (escaped on arrival) or local files: line by line, nothing raw.
    io.stderr(`ztna: ${message.split('\n').map(escapeUnsafe).join('\n')}\n`);
    if (wantsJson) io.stdout(`${terminalJson({ error: { code: known ? error.code : 'internal', message: known ? error.message : String(error) } })}\n`);
    return known ? error.exitCode : 2;
  }
}

// No top-level await: the single-file binary is built from a CommonJS bundle.
void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
