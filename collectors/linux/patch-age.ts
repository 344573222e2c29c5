/**
 * Linux patch age from the package managers' own histories: apt (history.log, rotated .N and
 * .N.gz), dnf (dnf.rpm.log), dnf5 (dnf5.log, Fedora 41+), yum (yum.log, RHEL/CentOS 7, Amazon
 * Linux 2), pacman, zypper and dpkg.log; the newest upgrade in any of them counts. For rpm
 * systems without a readable log, the rpm database's install times of the base
 * packages every system has (linux-package-logs.ts RPM_BASE_PACKAGES): a lower bound of
 * the last patch, never a freshly installed tool read as a patch.
 * Logs are world-readable on stock systems; no process is spawned except rpm.
 */
import { gunzipSync } from 'node:zlib';
import { parseAptHistory, parseDnf5Log, parseDnfRpmLog, parseDpkgLog, parsePacmanLog, parseRpmInstallTimes, parseYumLog, parseZyppHistory } from '../parsers/linux-package-logs.ts';
import type { UpdateHistory } from '../parsers/patch-age.ts';
import { mergeHistories, patchAgeFinding } from '../parsers/patch-age.ts';
import type { Collector, ProbeContext } from '../types.ts';
import { commandProblem, unknown } from '../types.ts';

interface LogSource {
  readonly method: string;
  readonly directory: string;
  /** Matches the current log and its rotations (`history.log`, `history.log.1`, `history.log.2.gz`). */
  readonly pattern: RegExp;
  /** `modified`: the file's modification time (yum.log's lines have no year). */
  readonly parse: (text: string, modified: Date) => UpdateHistory;
  /**
   * Read only when this other source found no upgrade: dpkg.log records the same runs as
   * apt's history.log (one package manager, two logs), and it is the big one (every
   * unpack and configure step), so it is not parsed when apt already answered.
   */
  readonly onlyWithout?: string;
}

const SOURCES: readonly LogSource[] = [
  { method: 'apt-history', directory: '/var/log/apt', pattern: /^history\.log(\.\d+)?(\.gz)?$/, parse: parseAptHistory },
  { method: 'dnf-log', directory: '/var/log', pattern: /^dnf\.rpm\.log(\.\d+|-\d{8})?(\.gz)?$/, parse: parseDnfRpmLog },
  { method: 'dnf5-log', directory: '/var/log', pattern: /^dnf5\.log(\.\d+)?$/, parse: (text) => parseDnf5Log(text) },
  { method: 'yum-log', directory: '/var/log', pattern: /^yum\.log(\.\d+|-\d{8})?(\.gz)?$/, parse: parseYumLog },
  { method: 'pacman-log', directory: '/var/log', pattern: /^pacman\.log(\.\d+)?(\.gz)?$/, parse: parsePacmanLog },
  { method: 'zypp-history', directory: '/var/log/zypp', pattern: /^history(-\d{8})?(\.gz|\.xz)?$/, parse: parseZyppHistory },
  { method: 'dpkg-log', directory: '/var/log', pattern: /^dpkg\.log(\.\d+)?(\.gz)?$/, parse: parseDpkgLog, onlyWithout: 'apt-history' },
];

/** Rotation order: the live file first, then .1, .2, … (oldest last). */
function rotationIndex(name: string): number {
  const match = /[.-](\d+)(\.gz|\.xz)?$/.exec(name);
  return match ? Number(match[1]) : 0;
}

async function readLogs(ctx: ProbeContext, source: LogSource): Promise<{ history: UpdateHistory; files: string[] } | null> {
  const listing = await ctx.list(source.directory);
  if (!listing.ok) return null;
  const names = listing.entries.filter((name) => source.pattern.test(name) && !name.endsWith('.xz')).sort((a, b) => rotationIndex(a) - rotationIndex(b));
  if (names.length === 0) return null;
  const histories: UpdateHistory[] = [];
  const files: string[] = [];
  for (const name of names) {
    const path = `${source.directory}/${name}`;
    const file = await ctx.read(path);
    if (!file.ok) continue;
    let text: string;
    try {
      text = (name.endsWith('.gz') ? gunzipSync(file.data) : file.data).toString('utf8');
    } catch {
      continue; // a truncated rotation: the other files still count
    }
    files.push(path);
    const history = source.parse(text, new Date(file.mtimeMs));
    histories.push(history);
    // Logs rotate newest-first: once a file has an update, older files cannot have a newer one.
    if (history.lastUpdate !== null) break;
  }
  return files.length === 0 ? null : { history: mergeHistories(histories), files };
}

export const linuxPatchAge: Collector<'patch_age_days'> = {
  signal: 'patch_age_days',
  async collect(ctx) {
    const consulted: string[] = [];
    // Every log counts, the newest upgrade wins: a host moved from yum to dnf or from dnf4 to
    // dnf5 keeps the old log beside the new one, and each parser only counts real upgrades.
    let best: { method: string; history: UpdateHistory; files: string[] } | null = null;
    const answered = new Set<string>();
    for (const source of SOURCES) {
      if (source.onlyWithout !== undefined && answered.has(source.onlyWithout)) continue;
      const logs = await readLogs(ctx, source);
      if (logs === null) continue;
      consulted.push(...logs.files);
      const lastUpdate = logs.history.lastUpdate;
      if (lastUpdate !== null) answered.add(source.method);
      if (lastUpdate !== null && (best === null || lastUpdate > (best.history.lastUpdate as Date))) best = { method: source.method, ...logs };
    }
    if (best !== null) return patchAgeFinding(best.history, ctx.now(), best.method, best.files.join(', '));
    if (await ctx.has('rpm')) {
      const result = await ctx.run('rpm', ['-qa', '--qf', '%{INSTALLTIME} %{NAME} %{VERSION}-%{RELEASE}.%{ARCH}\\n']);
      const problem = commandProblem<number>(result, 'rpm');
      if (problem) return problem;
      const finding = patchAgeFinding(parseRpmInstallTimes(result.stdout), ctx.now(), 'rpm', 'the rpm database (the newest install time of the base packages every system has: a lower bound of the last update)');
      return finding.value === null ? finding : { ...finding, facts: { ...finding.facts, approximate: true } };
    }
    return unknown('no_history', 'package-logs', consulted.length > 0 ? `no package upgrade recorded in ${consulted.join(', ')}` : 'no package manager history found (apt, dnf, pacman, zypper, dpkg, rpm)');
  },
};
