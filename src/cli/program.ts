/**
 * The `ztna` command tree (SPEC section 5). Each action calls a command function that
 * returns data, then hands the data to an output function: JSON on stdout with
 * `--json`, the human rendering otherwise. Exit codes: 0 compliant / success,
 * 1 non-compliant, 2 usage or runtime error — mapped in entry.ts, the only place that
 * touches the process's exit status.
 */
import { Command, Option } from 'commander';
import type { ChalkInstance } from 'chalk';
import type { SignalKey, SignalResult } from '../../collectors/types.ts';
import { AGENT_VERSION } from '../version.ts';
import type { PostureResult } from './commands/posture.ts';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Colors for stdout (level 0 when NO_COLOR is set, stdout is not a terminal, or --json). */
  color: (json: boolean) => Promise<ChalkInstance>;
  /** Whether progress lines may be drawn on stderr. */
  interactive: boolean;
}

export interface CliOutcome {
  exitCode: number;
}

const SIGNAL_NAMES: Record<SignalKey, string> = {
  disk_encrypted: 'disk encryption',
  firewall_enabled: 'firewall',
  antivirus_enabled: 'antivirus',
  patch_age_days: 'patch age',
  os_version: 'OS version',
};

/** A one-line "checking …" progress indicator on stderr, for terminals only. */
function progress(io: CliIO, enabled: boolean) {
  if (!enabled || !io.interactive) return { onSignal: undefined, done: () => {} };
  const pending = new Set<SignalKey>(Object.keys(SIGNAL_NAMES) as SignalKey[]);
  const draw = () => io.stderr(`\r\x1b[2Kchecking ${[...pending].map((k) => SIGNAL_NAMES[k]).join(', ')}…`);
  const timer = setTimeout(draw, 250); // quick collections finish before anything is drawn
  return {
    onSignal: (signal: SignalKey, _result: SignalResult<unknown>) => {
      pending.delete(signal);
      if (pending.size > 0) draw();
    },
    done: () => {
      clearTimeout(timer);
      io.stderr('\r\x1b[2K');
    },
  };
}

async function emitPosture(result: PostureResult, json: boolean, io: CliIO): Promise<number> {
  if (json) {
    const { policy: _policy, ...contract } = result;
    io.stdout(`${JSON.stringify(contract, null, 2)}\n`);
  } else {
    const { renderPostureResult } = await import('./render.ts');
    io.stdout(renderPostureResult(result, await io.color(false)));
  }
  return result.compliant && !result.quarantined ? 0 : 1;
}

export function buildProgram(io: CliIO, outcome: CliOutcome): Command {
  const program = new Command('ztna')
    .description('Device posture agent: measures disk encryption, firewall, antivirus and patch age, and reports them to a ztna server.')
    .version(`ztna ${AGENT_VERSION} (node ${process.versions.node}, ${process.platform}/${process.arch})`, '-v, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  const posture = program
    .command('posture')
    .description('check this device\'s security posture')
    .exitOverride();

  posture
    .command('status')
    .description('collect every signal now and show the device\'s posture and compliance')
    .option('--local', 'evaluate on this device without contacting a server')
    .option('--policy <file>', 'evaluate against this policy file instead of the built-in default (all three signals, patches ≤ 30 days)')
    .option('--json', 'print {report, compliant, violations, source} as JSON on stdout')
    .addHelpText(
      'after',
      '\nExit status: 0 compliant, 1 non-compliant, 2 error.\n\nExamples:\n  ztna posture status\n  ztna posture status --local --json | jq .violations\n  ztna posture status --policy ./policy.json',
    )
    .exitOverride()
    .action(async (options: { local?: boolean; policy?: string; json?: boolean }) => {
      const { postureStatus } = await import('./commands/posture.ts');
      const indicator = progress(io, !options.json);
      let result: PostureResult;
      try {
        result = await postureStatus({
          ...(options.policy ? { policyPath: options.policy } : {}),
          ...(indicator.onSignal ? { onSignal: indicator.onSignal } : {}),
        });
      } finally {
        indicator.done();
      }
      outcome.exitCode = await emitPosture(result, options.json === true, io);
    });

  posture
    .command('check')
    .description('scripted compliance check: evaluate this device (or a saved report) against a policy file, offline')
    .addOption(new Option('--policy <file>', 'policy file: one policy object or a JSON array of them').makeOptionMandatory())
    .option('--report <file>', 'evaluate this saved report instead of collecting from this device')
    .option('--json', 'print {report, compliant, violations, source} as JSON on stdout')
    .addHelpText(
      'after',
      '\nExit status: 0 compliant, 1 non-compliant, 2 error (missing or malformed file).\n\nExamples:\n  ztna posture check --policy policy.json\n  ztna posture check --policy policy.json --report report.json --json',
    )
    .exitOverride()
    .action(async (options: { policy: string; report?: string; json?: boolean }) => {
      const { postureCheck } = await import('./commands/posture.ts');
      const indicator = progress(io, !options.json && !options.report);
      let result: PostureResult;
      try {
        result = await postureCheck({
          policyPath: options.policy,
          ...(options.report ? { reportPath: options.report } : {}),
          ...(indicator.onSignal ? { onSignal: indicator.onSignal } : {}),
        });
      } finally {
        indicator.done();
      }
      outcome.exitCode = await emitPosture(result, options.json === true, io);
    });

  return program;
}
