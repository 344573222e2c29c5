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
import { versionLine } from '../build-info.ts';
import { SIGNAL_KEYS, signalSpec } from '../shared/signals.ts';
import { escapeUnsafe, terminalJson } from '../shared/text.ts';
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

/** A one-line "checking …" progress indicator on stderr, for terminals only. */
function progress(io: CliIO, enabled: boolean) {
  if (!enabled || !io.interactive) return { onSignal: undefined, done: () => {} };
  const pending = new Set<SignalKey>(SIGNAL_KEYS);
  const draw = () => io.stderr(`\r\x1b[2Kchecking ${[...pending].map((key) => signalSpec(key).noun).join(', ')}…`);
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
  for (const warning of result.warnings ?? []) io.stderr(`ztna: warning: ${warning}\n`);
  if (json) {
    // Findings go out as they came (a server's blocks_at / exempt_until included).
    const { policy: _policy, warnings: _warnings, ...contract } = result;
    io.stdout(`${terminalJson(contract, 2)}\n`);
  } else {
    const { renderPostureResult } = await import('./render.ts');
    io.stdout(renderPostureResult(result, await io.color(false)));
  }
  return result.compliant && !result.quarantined ? 0 : 1;
}

/** `--tags a,b`: each a tag as SPEC 7.1 spells them; an empty list is allowed (check as untagged). */
async function parseTagList(text: string): Promise<string[]> {
  const [{ TAG }, { ZtnaError }] = await Promise.all([import('../shared/posture-schemas.ts'), import('../shared/errors.ts')]);
  const tags = text
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
  const bad = tags.find((tag) => !TAG.test(tag));
  if (bad !== undefined) throw new ZtnaError('usage', `--tags: "${bad}" is not a tag (tags are lower-case letters, digits and dashes, starting with a letter or digit)`);
  return [...new Set(tags)];
}

export function buildProgram(io: CliIO, outcome: CliOutcome): Command {
  const program = new Command('ztna')
    .description('Device posture agent: measures disk encryption, firewall, antivirus and patch age, and reports them to a ztna server.')
    .version(versionLine('ztna'), '-v, --version', 'print the version, commit and runtime')
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
    .option('--replay <bundle>', 'evaluate a `ztna bugreport` bundle (another machine\'s observations) instead of this machine; implies --local')
    .option('--json', 'print {report, compliant, violations, source} as JSON on stdout')
    .addHelpText(
      'after',
      '\nExit status: 0 compliant, 1 non-compliant, 2 error.\n\nExamples:\n  ztna posture status\n  ztna posture status --local --json | jq .violations\n  ztna posture status --policy ./policy.json\n  ztna posture status --local --replay ./ztna-bugreport-2026-12-02T10-00-00-000Z',
    )
    .exitOverride()
    .action(async (options: { local?: boolean; policy?: string; replay?: string; json?: boolean }) => {
      const { postureStatus } = await import('./commands/posture.ts');
      const indicator = progress(io, !options.json && !options.replay);
      let result: PostureResult;
      try {
        result = await postureStatus({
          local: options.local === true || options.replay !== undefined,
          ...(options.replay ? { replayPath: options.replay } : {}),
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
    .option('--tags <list>', 'decide policies\' "tags" as if this device carried these (comma-separated; "" for none) instead of the tags its server gave it')
    .option('--json', 'print {report, compliant, violations, findings, policies, source} as JSON on stdout')
    .addHelpText(
      'after',
      '\nOnly the policies that apply to this device combine: "platforms" is decided by the report\'s\n' +
        'platform (this device\'s), "tags" by the tags the server gave this device (none when it is not\n' +
        'enrolled). --json lists under "policies" which applied and which were skipped, and why.\n' +
        'Grace periods are a server\'s: here every violation counts now.\n\n' +
        'Exit status: 0 compliant, 1 non-compliant, 2 error (missing or malformed file).\n\nExamples:\n  ztna posture check --policy policy.json\n  ztna posture check --policy policy.json --report report.json --json\n  ztna posture check --policy policies.json --tags build-server --json | jq .policies.skipped',
    )
    .exitOverride()
    .action(async (options: { policy: string; report?: string; tags?: string; json?: boolean }) => {
      const { postureCheck } = await import('./commands/posture.ts');
      const tags = options.tags === undefined ? undefined : await parseTagList(options.tags);
      const indicator = progress(io, !options.json && !options.report);
      let result: PostureResult;
      try {
        result = await postureCheck({
          policyPath: options.policy,
          ...(options.report ? { reportPath: options.report } : {}),
          ...(tags === undefined ? {} : { tags }),
          ...(indicator.onSignal ? { onSignal: indicator.onSignal } : {}),
        });
      } finally {
        indicator.done();
      }
      outcome.exitCode = await emitPosture(result, options.json === true, io);
    });

  program
    .command('bugreport')
    .description('write a support bundle: every command, output and file the posture collectors used (keys and tokens redacted)')
    .option('--output <dir>', 'the new directory to write (default: ./ztna-bugreport-<time>)')
    .option('--json', 'print what was written as JSON')
    .addHelpText('after', '\nSend the directory to the people who support you; they can evaluate it on any machine with\n  ztna posture status --local --replay <dir>\nIt describes this machine\'s security set-up, so it is written readable by you only.')
    .exitOverride()
    .action(async (options: { output?: string; json?: boolean }) => {
      const { bugreport } = await import('./commands/bugreport.ts');
      const indicator = progress(io, !options.json);
      let result: Awaited<ReturnType<typeof bugreport>>;
      try {
        result = await bugreport({ ...(options.output ? { output: options.output } : {}), ...(indicator.onSignal ? { onSignal: indicator.onSignal } : {}) });
      } finally {
        indicator.done();
      }
      if (options.json) io.stdout(`${terminalJson(result, 2)}\n`);
      else io.stdout(`wrote ${result.directory}: ${result.commands} command(s) and ${result.files_read} file read(s) the collectors made, and the report they gave\nreplay it anywhere: ztna posture status --local --replay ${JSON.stringify(result.directory)}\n`);
    });

  program
    .command('up')
    .description('enroll this device with a ztna server and send its first posture report')
    .requiredOption('--server <url>', 'server URL (https://…; plain http only to localhost)')
    .option('--auth-key <key>', 'auth key from the admin (or set ZTNA_AUTH_KEY)')
    .option('--hostname <name>', 'name to enroll under (default: this machine\'s hostname)')
    .option('--allow-insecure-http', 'allow a plain http:// server that is not on this machine: the auth key and node key then cross the network UNENCRYPTED (lab networks only)')
    .option('--json', 'print the enrollment result as JSON')
    .addHelpText(
      'after',
      '\nThe node key is stored in the config directory with mode 0600 (ZTNA_CONFIG_DIR moves it).\n\n' +
        'TLS: the server\'s certificate is always verified. For a server with a private CA, point\n' +
        'NODE_EXTRA_CA_CERTS at the CA certificate (PEM) for every ztna command and the daemon.\n' +
        'Plain http:// is refused unless the server is on this machine (localhost, 127.0.0.1, [::1])\n' +
        'or --allow-insecure-http is given.\n\n' +
        'Examples:\n  ZTNA_AUTH_KEY=ztna_auth_… ztna up --server https://ztna.example.com\n' +
        '  NODE_EXTRA_CA_CERTS=/etc/ztna/ca.pem ztna up --server https://ztna.internal:8787',
    )
    .exitOverride()
    .action(async (options: { server: string; authKey?: string; hostname?: string; allowInsecureHttp?: boolean; json?: boolean }) => {
      const { up } = await import('./commands/connection.ts');
      if (options.allowInsecureHttp) {
        const { isInsecureRemote } = await import('../agent/control-client.ts');
        if (isInsecureRemote(options.server)) io.stderr(`ztna: warning: --allow-insecure-http: the auth key and the node key will cross the network to ${options.server} unencrypted\n`);
      }
      const result = await up({
        server: options.server,
        ...(options.authKey ? { authKey: options.authKey } : {}),
        ...(options.hostname ? { hostname: options.hostname } : {}),
        ...(options.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
        onNotice: (message) => io.stderr(`ztna: ${message}\n`),
      });
      if (options.json) io.stdout(`${terminalJson(result, 2)}\n`);
      else {
        const color = await io.color(false);
        io.stdout(`enrolled ${result.hostname} with ${result.server_url} as machine ${result.machine_id}\n`);
        if (result.tags !== null && result.tags.length > 0) io.stdout(`tags: ${result.tags.map(escapeUnsafe).join(', ')}\n`);
        io.stdout(`posture: ${result.compliant ? color.green('COMPLIANT') : color.red('NON-COMPLIANT')}${result.violations.length ? ` (${result.violations.join(', ')})` : ''}, mode ${result.mode}, status ${result.quarantined ? color.red('quarantined') : result.status}\n`);
        io.stdout('run `ztna daemon` (or `ztna service install`) to keep reporting\n');
      }
    });

  program
    .command('down')
    .description('disconnect: the server removes this device, and its enrollment and node key are forgotten here')
    .addHelpText('after', '\nThe server deletes the machine (its node key never works again). If the server cannot be\nreached, the key is forgotten here all the same and a warning says the machine is still\nlisted there.')
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action(async (options: { json?: boolean }) => {
      const { down } = await import('./commands/connection.ts');
      const result = await down();
      if (options.json) io.stdout(`${terminalJson(result)}\n`);
      else if (!result.was_enrolled) io.stdout('this device was not enrolled\n');
      else {
        io.stdout(`forgot the enrollment in ${result.config_dir}${result.daemon_disconnected ? ' and disconnected the running daemon' : ''}\n`);
        (result.deregistered || result.server_reachable === null ? io.stdout : io.stderr)(`${result.deregistered ? '' : 'ztna: warning: '}${result.note}\n`);
      }
    });

  program
    .command('status')
    .description('enrollment, server, machine status and agent state (CONNECTED, QUARANTINE, COMPLIANT, DISCONNECTED)')
    .option('--json', 'print the status as JSON')
    .exitOverride()
    .action(async (options: { json?: boolean }) => {
      const { status } = await import('./commands/connection.ts');
      const result = await status();
      if (options.json) {
        io.stdout(`${terminalJson(result, 2)}\n`);
        return;
      }
      const color = await io.color(false);
      const stateColor = result.agent_state === 'QUARANTINE' ? color.red : result.agent_state === 'DISCONNECTED' ? color.yellow : color.green;
      const rows: Array<[string, string]> = [
        ['Enrolled:', result.enrolled ? 'yes' : 'no (run `ztna up --server URL --auth-key KEY`)'],
        ['Server:', result.server_url ?? '-'],
        ['Machine ID:', result.machine_id ?? '-'],
        ['Machine Status:', result.machine_status ?? '-'],
        ['Agent State:', stateColor(result.agent_state)],
        ['Daemon:', result.daemon],
        ['Last Heartbeat:', result.last_heartbeat ?? '-'],
        ['Last Report:', result.last_report ?? '-'],
      ];
      if (result.tags !== null) rows.push(['Tags:', result.tags.length > 0 ? result.tags.map(escapeUnsafe).join(', ') : 'none']);
      if (result.posture_state !== null) {
        const { statusPostureText } = await import('./lifecycle-view.ts');
        const text = statusPostureText(result.posture_state, result.findings, Date.now(), result.blocks_at);
        rows.push(['Posture:', result.posture_state === 'grace' || result.posture_state === 'pending' ? color.yellow(text) : result.posture_state === 'failing' ? color.red(text) : text]);
      }
      if (result.violations.length > 0) rows.push(['Violations:', result.violations.join(', ')]);
      if (result.server_reachable === false) rows.push(['Server:', color.yellow('unreachable (the last known state is kept)')]);
      io.stdout(`${rows.map(([label, value]) => `${label.padEnd(19)}${value}`).join('\n')}\n`);
      if (result.agent_state === 'QUARANTINE') io.stdout('\nThis device is quarantined: fix the violations (`ztna posture status` explains each), then it is released automatically.\n');
    });

  program
    .command('peers')
    .description('the machines this device may reach (none while quarantined)')
    .option('--json', 'print {"quarantined", "peers"} as JSON')
    .exitOverride()
    .action(async (options: { json?: boolean }) => {
      const { peers } = await import('./commands/connection.ts');
      const result = await peers();
      if (options.json) {
        io.stdout(`${terminalJson(result, 2)}\n`);
        return;
      }
      if (result.quarantined) {
        io.stdout('this device is quarantined: it has no peers until it is compliant again\n');
        return;
      }
      if (result.peers.length === 0) {
        io.stdout('no peers\n');
        return;
      }
      for (const peer of result.peers) io.stdout(`${peer.hostname.padEnd(24)} ${peer.id}  ${(peer.os ?? '-').padEnd(8)} ${peer.online ? 'online' : 'offline'}${peer.tags.length ? `  ${peer.tags.join(',')}` : ''}\n`);
    });

  program
    .command('service')
    .description('run the daemon in the background under systemd (Linux), launchd (macOS) or the Windows service manager')
    .argument('<action>', 'install, uninstall or status')
    .option('--dry-run', 'install: print the service definition and the commands, change nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nEnroll the system-wide agent first, then install (both need root / Administrator):\n  sudo ZTNA_CONFIG_DIR=/var/lib/ztna ztna up --server https://ztna.example.com --auth-key …\n  sudo ztna service install\n\nThe service runs this same program (the binary\'s real path). Logs: journalctl -u ztna (Linux),\n/Library/Logs/ztna/agent.log (macOS), %ProgramData%\\ztna\\logs\\agent.log (Windows).',
    )
    .exitOverride()
    .action(async (action: string, options: { json?: boolean; dryRun?: boolean }) => {
      const { serviceCommand } = await import('./commands/service.ts');
      const { describeServiceOutcome } = await import('../platform/service-manager.ts');
      const result = await serviceCommand(action, { dryRun: options.dryRun === true });
      io.stdout(options.json ? `${terminalJson(result, 2)}\n` : describeServiceOutcome(result));
      if ('action' in result && result.action === 'status' && result.active !== true) outcome.exitCode = 1;
    });

  program
    .command('remediate')
    .description('show the remediation commands the server prepared for this device, and apply one after you confirm')
    .argument('[id]', 'the command to apply (default: the first pending one)')
    .option('--yes', 'apply without asking (for scripts)')
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action(async (id: string | undefined, options: { yes?: boolean; json?: boolean }) => {
      const { remediate } = await import('./commands/remediate.ts');
      const interactive = process.stdin.isTTY === true && !options.json;
      const confirm = interactive
        ? async (question: string) => {
            const { createInterface } = await import('node:readline/promises');
            const prompt = createInterface({ input: process.stdin, output: process.stderr });
            try {
              return /^y(es)?$/i.test((await prompt.question(question)).trim());
            } finally {
              prompt.close();
            }
          }
        : null;
      const result = await remediate({ ...(id ? { id } : {}), yes: options.yes === true, confirm });
      if (options.json) {
        io.stdout(`${terminalJson(result, 2)}\n`);
      } else {
        for (const command of result.commands) {
          io.stdout(`${command.id}  ${command.command} (expires ${command.expires_at})\n  ${command.explanation}\n`);
          if (command.plan.kind === 'run') io.stdout(`  here: ${command.plan.description} (needs root / Administrator)\n`);
          if (command.plan.kind === 'guide') for (const step of command.plan.instructions) io.stdout(`  - ${step}\n`);
          if (command.plan.kind === 'unsupported') io.stdout(`  ${command.plan.description}\n`);
        }
        io.stdout(`${result.note}\n`);
        if (result.verdict) io.stdout(`posture re-reported: ${result.verdict.compliant ? 'COMPLIANT' : `NON-COMPLIANT (${result.verdict.violations.join(', ')})`}${result.verdict.quarantined ? ', still quarantined' : ''}\n`);
      }
      if (result.outcome && result.outcome.status !== 'applied') outcome.exitCode = 1;
    });

  program
    .command('daemon')
    .description('run the agent in the foreground (what a service manager starts): heartbeats, reports, quarantine polling')
    .option('--local-check-interval <seconds>', 're-collect local posture this often and report at once on a change', '15')
    .exitOverride()
    .action(async (options: { localCheckInterval: string }) => {
      const seconds = Number(options.localCheckInterval);
      if (!Number.isFinite(seconds) || seconds < 1 || seconds > 86_400) {
        const { ZtnaError } = await import('../shared/errors.ts');
        throw new ZtnaError('usage', '--local-check-interval: seconds between 1 and 86400');
      }
      // Listen for the stop signals before starting, so a SIGTERM that arrives while the
      // daemon is still starting stops it cleanly instead of killing it.
      const stopRequested = new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      const { startDaemon } = await import('./commands/daemon.ts');
      const daemon = await startDaemon({ localCheckSeconds: seconds });
      await stopRequested;
      await daemon.stop();
    });

  return program;
}
