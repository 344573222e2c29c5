/**
 * antivirus_enabled on macOS: built-in XProtect, plus third-party EDRs.
 *
 * Three independent probes, run concurrently, then one pure decision
 * (`decideDarwinAntivirus`):
 * - XProtect.bundle's Info.plist, at the macOS 11+ location, then the macOS 15+ live copy
 *   under /var/protected (which may need root). A file read, no process.
 * - `systemextensionsctl list` for known EDR vendors' `[activated enabled]` extensions.
 * - `mdatp health --output json` for Microsoft Defender. The runner only starts it when
 *   /usr/local/bin/mdatp exists; "not found" is the observation "Defender not installed".
 */
import { decideDarwinAntivirus, type MdatpProbe, type SystemExtensionsProbe, type XProtectProbe } from '../parsers/darwin-antivirus.ts';
import { parseMdatpHealth } from '../parsers/mdatp-health.ts';
import { parseSystemExtensionsList } from '../parsers/darwin-systemextensionsctl.ts';
import { parseXProtectInfoPlist, XPROTECT_INFO_PLISTS } from '../parsers/darwin-xprotect.ts';
import type { Collector, Finding, ProbeContext } from '../types.ts';
import { commandProblem } from '../types.ts';
import { readProblem } from './fallback.ts';

const INFO_PLIST_MAX_BYTES = 1_000_000;

export const antivirusCollector: Collector<'antivirus_enabled'> = {
  signal: 'antivirus_enabled',
  async collect(ctx) {
    const [xprotect, systemExtensions, mdatp] = await Promise.all([
      probeXProtect(ctx),
      probeSystemExtensions(ctx),
      probeMdatp(ctx),
    ]);
    return decideDarwinAntivirus({ xprotect, systemExtensions, mdatp });
  },
};

async function probeXProtect(ctx: ProbeContext): Promise<XProtectProbe> {
  const missing: string[] = [];
  let failure: Finding<never> | undefined;
  for (const path of XPROTECT_INFO_PLISTS) {
    const read = await ctx.read(path, { maxBytes: INFO_PLIST_MAX_BYTES });
    if (!read.ok) {
      if (read.failure === 'missing') missing.push(path);
      else failure ??= readProblem(read, 'xprotect', 'tool_missing');
      continue;
    }
    const parsed = parseXProtectInfoPlist(read.data);
    if (parsed.ok) return { state: 'present', version: parsed.value.version, path };
    failure ??= { ...parsed.finding, detail: `${path}: ${parsed.finding.detail}` };
  }
  return failure ? { state: 'failed', finding: failure } : { state: 'absent', paths: missing };
}

async function probeSystemExtensions(ctx: ProbeContext): Promise<SystemExtensionsProbe> {
  const result = await ctx.run('systemextensionsctl', ['list']);
  const problem = commandProblem(result, 'systemextensionsctl');
  if (problem) return { state: 'failed', finding: problem };
  const parsed = parseSystemExtensionsList(result.stdout);
  return parsed.ok ? { state: 'listed', edr: parsed.value.edr } : { state: 'failed', finding: parsed.finding };
}

async function probeMdatp(ctx: ProbeContext): Promise<MdatpProbe> {
  const result = await ctx.run('mdatp-darwin', ['health', '--output', 'json']);
  if (result.failure === 'not_found') return { state: 'not_installed' };
  const problem = commandProblem(result, 'mdatp');
  if (problem) return { state: 'failed', finding: problem };
  const parsed = parseMdatpHealth(result.stdout);
  return parsed.ok ? { state: 'reported', health: parsed.value } : { state: 'failed', finding: parsed.finding };
}
