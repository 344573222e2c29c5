/**
 * The one way the Windows collectors look at the host: a short Windows PowerShell 5.1
 * script (allow-list id `powershell`) that prints one line of JSON.
 *
 * - Windows PowerShell 5.1 ships with every supported Windows; `pwsh` is not guaranteed.
 * - The script travels as `-EncodedCommand` (base64 of UTF-16LE), so no quoting of `$`,
 *   quotes or newlines can go wrong between Node, CreateProcess and PowerShell.
 * - Output is JSON made of numbers, enums cast to strings and ISO dates, so a German or
 *   Korean Windows parses the same as an English one (research §0.4).
 * - `$ErrorActionPreference='Stop'` turns every cmdlet error into an exception; the
 *   body's own try/catch blocks record the probes that failed next to the ones that
 *   worked, and the outer catch prints `{"error": message, "hresult": int}` so that even
 *   an unexpected failure comes back as data (exit code 0), not as a crash.
 * - `ConvertTo-ZtnaError` reads the HRESULT out of FullyQualifiedErrorId when there is
 *   one ("HRESULT 0x8004100e,Microsoft.Management.Infrastructure.CimCmdlets…",
 *   amidaware/tacticalrmm#1202): that is the WMI code; Exception.HResult is the fallback.
 * - One PowerShell per signal: the collectors run concurrently, and a slow Windows Update
 *   query cannot hold up the firewall answer.
 */
import type { Collector, Finding, ProbeContext, SignalKey, SignalValue } from '../types.ts';
import { commandProblem } from '../types.ts';

/** Required first statements: quiet progress, every error terminating, UTF-8 stdout. */
export const POWERSHELL_PREFIX =
  "$ProgressPreference='SilentlyContinue'; $ErrorActionPreference='Stop'; [Console]::OutputEncoding=[Text.Encoding]::UTF8;";

/**
 * Shared helpers defined after the prefix. Removing System.Array's type data stops PS 5.1
 * from printing arrays as {"value":[…],"Count":n} (PowerShell/PowerShell#3222).
 */
const POWERSHELL_HELPERS = `
Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue
function ConvertTo-ZtnaError($record) {
  $hresult = $record.Exception.HResult
  if ([string]$record.FullyQualifiedErrorId -match 'HRESULT 0x([0-9a-fA-F]{8})') { $hresult = [Convert]::ToInt32($Matches[1], 16) }
  [ordered]@{ error = [string]$record.Exception.Message; hresult = [int]$hresult }
}`;

/** The full script PowerShell runs: prefix, helpers, then the body inside the outer try/catch. */
export function wrapPowerShellScript(body: string): string {
  return `${POWERSHELL_PREFIX}${POWERSHELL_HELPERS}
try {
${body.trim()}
} catch {
  ConvertTo-Json -Compress -InputObject (ConvertTo-ZtnaError $_)
}
`;
}

/** The arguments after `powershell.exe` for one script body. */
export function powershellArgs(body: string): string[] {
  const encoded = Buffer.from(wrapPowerShellScript(body), 'utf16le').toString('base64');
  return ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encoded];
}

/**
 * Runs a script body; returns its stdout, or the unknown finding when PowerShell itself
 * could not run it (missing, timed out, denied, non-zero exit).
 */
export async function runPowerShell(
  ctx: ProbeContext,
  body: string,
  method: string,
  timeoutMs?: number,
): Promise<{ readonly stdout: string } | { readonly problem: Finding<never> }> {
  const result = await ctx.run('powershell', powershellArgs(body), timeoutMs === undefined ? undefined : { timeoutMs });
  const problem = commandProblem(result, method);
  return problem === null ? { stdout: result.stdout } : { problem };
}

export interface PowerShellProbe {
  readonly script: string;
  /** What a failure is reported as (`commandProblem`'s method: "registry:CurrentVersion"). */
  readonly method: string;
  readonly timeoutMs?: number;
}

/**
 * A Windows collector: one PowerShell probe, its JSON read by a pure parser (which may
 * read the clock or environment from the context). A probe that fails becomes the finding
 * that says why; the parser sees only output that came back.
 */
export function powerShellCollector<K extends SignalKey>(signal: K, probe: PowerShellProbe, parse: (stdout: string, ctx: ProbeContext) => Finding<SignalValue<K>>): Collector<K> {
  return {
    signal,
    async collect(ctx) {
      const run = await runPowerShell(ctx, probe.script, probe.method, probe.timeoutMs);
      return 'problem' in run ? run.problem : parse(run.stdout, ctx);
    },
  };
}
