/**
 * Linux antivirus / EDR: ClamAV, Microsoft Defender for Endpoint, CrowdStrike Falcon,
 * SentinelOne, Sophos.
 *
 * A product counts only when it is installed AND its engine runs (and, where the product
 * can say so, is healthy): an installed but stopped ClamAV is `false`
 * (installed_not_running), as is ClamAV with stale signatures. Nothing installed, with
 * every probe answered, is `false` (no_av_detected). A probe that could not be answered
 * (needs root, tool failed) with nothing else active is `null`.
 * Process checks read /proc (no process spawned, works unprivileged and without systemd).
 */
import {
  LINUX_AV_PRODUCTS,
  parseFalconRfmState,
  mdatpFinding,
  runningProcesses,
} from '../parsers/linux-antivirus.ts';
import type { LinuxAvProduct } from '../parsers/linux-antivirus.ts';
import { signatureAgeProblem } from '../parsers/antivirus-freshness.ts';
import type { Collector, Finding, ProbeContext } from '../types.ts';
import { commandProblem, known, unknown } from '../types.ts';

const DAY_MS = 86_400_000;

export const linuxAntivirus: Collector<'antivirus_enabled'> = {
  signal: 'antivirus_enabled',
  async collect(ctx) {
    const installed: LinuxAvProduct[] = [];
    for (const product of LINUX_AV_PRODUCTS) {
      for (const marker of product.installMarkers) {
        if ((await ctx.stat(marker)).exists) {
          installed.push(product);
          break;
        }
      }
    }
    if (installed.length === 0) {
      return known(false, 'install-markers', `no antivirus installed (looked for ${LINUX_AV_PRODUCTS.map((p) => p.name).join(', ')})`, { reason: 'no_av_detected' });
    }
    const comms = await processNames(ctx);
    if (comms === null) return unknown('command_failed', 'procfs', 'cannot list processes in /proc');
    const findings: Finding<boolean>[] = [];
    for (const product of installed) findings.push(await productState(ctx, product, comms));
    const facts = { products: findings.map((f) => ({ method: f.method, active: f.value, detail: f.detail, ...(f.facts ?? {}) })) };
    const active = findings.find((f) => f.value === true);
    if (active) return known(true, active.method, active.detail, facts);
    const undetermined = findings.find((f) => f.value === null);
    if (undetermined) return unknown(undetermined.reason ?? 'unparsed_output', undetermined.method, findings.map((f) => f.detail).join('; '), facts);
    return known(false, (findings[0] as Finding<boolean>).method, findings.map((f) => f.detail).join('; '), { ...facts, reason: 'installed_not_running' });
  },
};

/** The set of running process names (/proc/<pid>/comm). Null when /proc cannot be listed. */
async function processNames(ctx: ProbeContext): Promise<Set<string> | null> {
  const listing = await ctx.list('/proc');
  if (!listing.ok) return null;
  const names = new Set<string>();
  await Promise.all(
    listing.entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (pid) => {
        // Read directly (not through the recording read): hundreds of /proc entries are not evidence.
        const comm = await ctx.read(`/proc/${pid}/comm`, { maxBytes: 64, quiet: true });
        if (comm.ok) names.add(comm.data.toString('utf8').trim());
      }),
  );
  return names;
}

async function productState(ctx: ProbeContext, product: LinuxAvProduct, comms: ReadonlySet<string>): Promise<Finding<boolean>> {
  const running = runningProcesses(product, comms);
  switch (product.id) {
    case 'mdatp': {
      const health = await ctx.run('mdatp-linux', ['health', '--output', 'json']);
      const problem = commandProblem<boolean>(health, 'mdatp');
      if (!problem) return mdatpFinding(health.stdout);
      if (running.length === 0) return known(false, 'mdatp', `${product.name} is installed but wdavdaemon is not running`);
      return problem;
    }
    case 'clamav': {
      if (running.length === 0) return known(false, 'clamav', 'ClamAV is installed but clamd is not running (on-demand scanning only)');
      const signatures = await newestSignature(ctx);
      if (signatures === null) return unknown('no_history', 'clamav', 'clamd runs but no signature database was found in /var/lib/clamav');
      const ageDays = Math.floor((ctx.now().getTime() - signatures.mtimeMs) / DAY_MS);
      const facts = { signature_file: signatures.path, signature_age_days: ageDays };
      const stale = signatureAgeProblem(ageDays);
      if (stale) return known(false, 'clamav', `clamd runs but its ${stale} (freshclam not updating)`, facts);
      return known(true, 'clamav', `clamd is running with signatures ${ageDays} day(s) old`, facts);
    }
    case 'crowdstrike': {
      if (running.length === 0) return known(false, 'falcon', 'CrowdStrike Falcon is installed but falcon-sensor is not running');
      if (!ctx.privileged) return known(true, 'falcon', 'falcon-sensor is running (its reduced-functionality state needs root to read)', { rfm: 'unknown' });
      const rfm = await ctx.run('falconctl', ['-g', '--rfm-state']);
      const inRfm = commandProblem(rfm, 'falconctl') ? null : parseFalconRfmState(rfm.stdout);
      if (inRfm === true) return known(false, 'falcon', 'falcon-sensor runs in Reduced Functionality Mode (kernel not supported)', { rfm: true });
      return known(true, 'falcon', 'falcon-sensor is running', { rfm: inRfm ?? 'unknown' });
    }
    default:
      // sentinelone, sophos, elastic, cisco, trellix-*, huntress: the engine's process is the signal.
      return running.length > 0
        ? known(true, product.id, `${product.name} is running (${running.join(', ')})`)
        : known(false, product.id, `${product.name} is installed but not running`);
  }
}

async function newestSignature(ctx: ProbeContext): Promise<{ path: string; mtimeMs: number } | null> {
  let newest: { path: string; mtimeMs: number } | null = null;
  for (const name of ['daily.cld', 'daily.cvd', 'main.cld', 'main.cvd']) {
    const path = `/var/lib/clamav/${name}`;
    const info = await ctx.stat(path);
    if (info.exists && (newest === null || info.mtimeMs > newest.mtimeMs)) newest = { path, mtimeMs: info.mtimeMs };
  }
  return newest;
}
