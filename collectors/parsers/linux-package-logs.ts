/**
 * Update histories from Linux package managers' logs. Each parser is pure and never
 * throws; lines it does not understand are skipped (logs contain conffile prompts,
 * errors, and partial writes).
 */
import type { UpdateHistory } from './patch-age.ts';
import { parseLocalDateTime, parseOffsetDateTime } from './patch-age.ts';

const newer = (a: Date | null, b: Date | null) => (b !== null && (a === null || b > a) ? b : a);

/**
 * /var/log/apt/history.log: blank-line separated transactions of `Key: value` lines
 * (Start-Date, Commandline, Requested-By, Install, Upgrade, Remove, Purge, Error,
 * End-Date). Dates are local time with TWO spaces between date and time. A transaction
 * patches when it has an `Upgrade:` line and no `Error:` line (a failed dpkg run
 * upgraded nothing reliably). Its time is End-Date, else Start-Date.
 */
export function parseAptHistory(text: string): UpdateHistory {
  let lastUpdate: Date | null = null;
  let lastAnyChange: Date | null = null;
  let lastUpdateLabel: string | undefined;
  let updates = 0;
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const colon = line.indexOf(': ');
      if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 2).trim());
    }
    const when = parseLocalDateTime(fields.get('End-Date') ?? '') ?? parseLocalDateTime(fields.get('Start-Date') ?? '');
    if (when === null) continue;
    if (['Install', 'Upgrade', 'Remove', 'Purge', 'Downgrade'].some((key) => fields.has(key))) lastAnyChange = newer(lastAnyChange, when);
    const upgraded = fields.get('Upgrade');
    if (!upgraded || fields.has('Error')) continue;
    updates += 1;
    if (lastUpdate === null || when > lastUpdate) {
      lastUpdate = when;
      const packages = upgraded.split(/\),\s*/).length;
      lastUpdateLabel = `${packages} package(s) upgraded${fields.get('Commandline') ? ` by \`${fields.get('Commandline')?.slice(0, 80)}\`` : ''}`;
    }
  }
  return { lastUpdate, lastAnyChange, updates, ...(lastUpdateLabel ? { lastUpdateLabel } : {}) };
}

/**
 * /var/log/dpkg.log: `YYYY-MM-DD HH:MM:SS <action> <package> <old> <new>`. `upgrade`
 * replaces an installed version; `install pkg <none> ver` is a new package (not patching).
 */
export function parseDpkgLog(text: string): UpdateHistory {
  let lastUpdate: Date | null = null;
  let lastAnyChange: Date | null = null;
  let lastUpdateLabel: string | undefined;
  let updates = 0;
  for (const line of text.split('\n')) {
    const match = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (install|upgrade|remove|purge) (\S+) (\S+) (\S+)/.exec(line);
    if (!match) continue;
    const when = parseLocalDateTime(match[1] as string);
    if (when === null) continue;
    lastAnyChange = newer(lastAnyChange, when);
    if (match[2] !== 'upgrade') continue;
    updates += 1;
    if (lastUpdate === null || when >= lastUpdate) {
      lastUpdate = when;
      lastUpdateLabel = `${match[3]} ${match[4]} → ${match[5]}`;
    }
  }
  return { lastUpdate, lastAnyChange, updates, ...(lastUpdateLabel ? { lastUpdateLabel } : {}) };
}

/**
 * /var/log/dnf.rpm.log (Fedora, RHEL 8+): `2023-01-11T10:00:09+0000 SUBDEBUG Upgrade: bash-5.2.15-1.fc37.x86_64`.
 * `Upgrade:` is the new version coming in (its partner `Upgraded:` is the old one going
 * out); `Install:` is a new package. dnf5 writes the same shape with a `Z` or `+00:00`.
 */
export function parseDnfRpmLog(text: string): UpdateHistory {
  let lastUpdate: Date | null = null;
  let lastAnyChange: Date | null = null;
  let lastUpdateLabel: string | undefined;
  let updates = 0;
  for (const line of text.split('\n')) {
    const match = /^(\S+) \S+ (Upgrade|Install|Erase|Downgrade|Reinstall|Obsolete): (\S+)/.exec(line.trim());
    if (!match) continue;
    const when = parseOffsetDateTime(match[1] as string);
    if (when === null) continue;
    lastAnyChange = newer(lastAnyChange, when);
    if (match[2] !== 'Upgrade') continue;
    updates += 1;
    if (lastUpdate === null || when >= lastUpdate) {
      lastUpdate = when;
      lastUpdateLabel = match[3] as string;
    }
  }
  return { lastUpdate, lastAnyChange, updates, ...(lastUpdateLabel ? { lastUpdateLabel } : {}) };
}

/**
 * /var/log/dnf5.log (Fedora 41+; dnf5 writes no dnf.rpm.log). libdnf5 logs rpm's transaction
 * callbacks, one line each: `2026-04-30T03:56:52+0000 [18165] INFO RPM callback install stop
 * "openssl-libs-1:3.2.2-9.fc41.x86_64" amount N total N` (also `install start`, `uninstall
 * start/stop`, scriptlets, `unpack error`). The bracketed number is the dnf5 process: the lines
 * of one run are one transaction. rpm does not say "upgrade": an upgrade installs the new
 * version and, in the same transaction, uninstalls the old one of the same name. So within a
 * transaction, a completed install (`install stop`) whose name also had a *different*
 * version uninstalled is an upgrade, dated by its install stop; a new package (nothing
 * uninstalled), a reinstall (the same version out and in) and an install that never stopped
 * (unpack error, crash) are not. A downgrade reads as an upgrade (the log does not order
 * versions); dnf5 does that only when an admin asks for it.
 */
export function parseDnf5Log(text: string): UpdateHistory {
  let lastUpdate: Date | null = null;
  let lastAnyChange: Date | null = null;
  let lastUpdateLabel: string | undefined;
  let updates = 0;
  let process: string | null = null;
  let installed: Array<{ name: string; evr: string; when: Date }> = [];
  let removed = new Map<string, Set<string>>();
  const endTransaction = () => {
    for (const entry of installed) {
      const older = [...(removed.get(entry.name) ?? [])].filter((evr) => evr !== entry.evr);
      if (older.length === 0) continue;
      updates += 1;
      if (lastUpdate === null || entry.when >= lastUpdate) {
        lastUpdate = entry.when;
        lastUpdateLabel = `${entry.name} ${older.join(', ')} → ${entry.evr}`;
      }
    }
    installed = [];
    removed = new Map();
  };
  for (const line of text.split('\n')) {
    const match = /^(\S+) \[(\d+)\] \S+ RPM callback (install|uninstall) stop "([^"]+)"/.exec(line.trim());
    if (!match) continue;
    const when = parseOffsetDateTime(match[1] as string);
    const nevra = /^(.+)-(\d+):([^-:]+)-([^-:]+)\.[^.-]+$/.exec(match[4] as string);
    if (when === null || nevra === null) continue;
    if (match[2] !== process) endTransaction();
    process = match[2] as string;
    lastAnyChange = newer(lastAnyChange, when);
    const [, name, epoch, version, release] = nevra as unknown as [string, string, string, string, string];
    const evr = `${epoch === '0' ? '' : `${epoch}:`}${version}-${release}`;
    if (match[3] === 'install') installed.push({ name, evr, when });
    else removed.set(name, (removed.get(name) ?? new Set()).add(evr));
  }
  endTransaction();
  return { lastUpdate, lastAnyChange, updates, ...(lastUpdateLabel ? { lastUpdateLabel } : {}) };
}

/**
 * /var/log/pacman.log: `[2024-05-03T09:16:00+0200] [ALPM] upgraded linux (6.8-1 -> 6.9-1)`;
 * pacman before 5.2 wrote `[2019-07-08 01:01] [ALPM] upgraded …` in local time, and
 * older still without the `[ALPM]` tag.
 */
export function parsePacmanLog(text: string): UpdateHistory {
  let lastUpdate: Date | null = null;
  let lastAnyChange: Date | null = null;
  let lastUpdateLabel: string | undefined;
  let updates = 0;
  for (const line of text.split('\n')) {
    const match = /^\[([^\]]+)\](?: \[ALPM\])? (installed|upgraded|removed|downgraded|reinstalled) (\S+)(?: \((.*)\))?/.exec(line.trim());
    if (!match) continue;
    const stamp = match[1] as string;
    const when = parseOffsetDateTime(stamp) ?? parseLocalDateTime(stamp);
    if (when === null) continue;
    lastAnyChange = newer(lastAnyChange, when);
    if (match[2] !== 'upgraded') continue;
    updates += 1;
    if (lastUpdate === null || when >= lastUpdate) {
      lastUpdate = when;
      lastUpdateLabel = `${match[3]} ${match[4] ?? ''}`.trim();
    }
  }
  return { lastUpdate, lastAnyChange, updates, ...(lastUpdateLabel ? { lastUpdateLabel } : {}) };
}

/**
 * /var/log/zypp/history (openSUSE/SLES): `date|action|name|version|arch|…`, `#` comments.
 * zypper logs an upgrade as `install` of a package that is already installed, so an
 * install counts as an update when the same name was installed earlier in the history.
 * `patch` lines whose status field says `applied` are patches.
 */
export function parseZyppHistory(text: string): UpdateHistory {
  let lastUpdate: Date | null = null;
  let lastAnyChange: Date | null = null;
  let lastUpdateLabel: string | undefined;
  let updates = 0;
  const installed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const fields = line.split('|').map((field) => field.trim());
    if (fields.length < 4) continue;
    const when = parseLocalDateTime(fields[0] as string);
    if (when === null) continue;
    const [, action, name, version] = fields as [string, string, string, string];
    let isUpdate = false;
    if (action === 'install') {
      lastAnyChange = newer(lastAnyChange, when);
      isUpdate = installed.has(name);
      installed.add(name);
    } else if (action === 'remove') {
      lastAnyChange = newer(lastAnyChange, when);
      installed.delete(name);
    } else if (action === 'patch') {
      isUpdate = fields.includes('applied');
    }
    if (!isUpdate) continue;
    updates += 1;
    if (lastUpdate === null || when >= lastUpdate) {
      lastUpdate = when;
      lastUpdateLabel = `${name} ${version}`;
    }
  }
  return { lastUpdate, lastAnyChange, updates, ...(lastUpdateLabel ? { lastUpdateLabel } : {}) };
}

/**
 * /var/log/yum.log (RHEL/CentOS 6–7, Amazon Linux 2): `May 11 05:26:25 Updated: bash.x86_64
 * 4.2.46-30.el7` (EL7: `name.arch [epoch:]version-release`) or `Apr 06 03:19:09 Updated:
 * yum-3.2.29-81.el6.centos.noarch` (EL6), also `Installed:` and `Erased:`. The lines carry no
 * year: yum rotates the file yearly, so the last line is dated in the year of the file's
 * modification time, and each step back that crosses from January to December goes back a
 * year. `Updated:` is an upgrade; `Installed:` is a new package (not patching).
 */
export function parseYumLog(text: string, modified: Date): UpdateHistory {
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const entries: Array<{ month: number; day: number; time: string; action: string; what: string }> = [];
  for (const line of text.split('\n')) {
    const match = /^([A-Z][a-z]{2}) ?(\d{1,2}) (\d{2}:\d{2}:\d{2}) (Updated|Installed|Erased|Dep-Installed|Obsoleted): (.+)$/.exec(line.trim());
    const month = match ? MONTHS.indexOf(match[1] as string) : -1;
    if (!match || month < 0) continue;
    entries.push({ month, day: Number(match[2]), time: match[3] as string, action: match[4] as string, what: (match[5] as string).trim() });
  }
  let lastUpdate: Date | null = null;
  let lastAnyChange: Date | null = null;
  let lastUpdateLabel: string | undefined;
  let updates = 0;
  let year = modified.getFullYear();
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = entries[index] as (typeof entries)[number];
    const later = entries[index + 1];
    if (later && entry.month > later.month) year -= 1;
    const when = parseLocalDateTime(`${year}-${String(entry.month + 1).padStart(2, '0')}-${String(entry.day).padStart(2, '0')} ${entry.time}`);
    if (when === null) continue;
    lastAnyChange = newer(lastAnyChange, when);
    if (entry.action !== 'Updated') continue;
    updates += 1;
    if (lastUpdate === null || when > lastUpdate) {
      lastUpdate = when;
      lastUpdateLabel = entry.what;
    }
  }
  return { lastUpdate, lastAnyChange, updates, ...(lastUpdateLabel ? { lastUpdateLabel } : {}) };
}

/**
 * Packages every rpm-based system has from its first boot and that the distribution updates
 * regularly. rpm cannot tell an upgrade from a new install, so the newest install time of
 * *any* package would date a freshly installed tool as a patch (understating the age: the
 * fail-open direction). These were installed with the OS, so a newer install time than that
 * means they were upgraded: the newest of theirs is a lower bound of the last patch (the age
 * may be overstated, never understated).
 */
export const RPM_BASE_PACKAGES: ReadonlySet<string> = new Set(['glibc', 'bash', 'coreutils', 'systemd', 'openssl-libs', 'openssl', 'ca-certificates', 'tzdata', 'rpm', 'kernel-core', 'kernel', 'sudo', 'openssh-server', 'curl', 'libcurl', 'zlib', 'glib2', 'systemd-libs', 'kernel-default']);

/**
 * `rpm -qa --qf '%{INSTALLTIME} %{NAME} %{VERSION}-%{RELEASE}.%{ARCH}\n'`: epoch seconds,
 * the name, the version. Only RPM_BASE_PACKAGES count (see there).
 */
export function parseRpmInstallTimes(text: string): UpdateHistory {
  let newest: Date | null = null;
  let newestAny: Date | null = null;
  let label: string | undefined;
  let count = 0;
  for (const line of text.split('\n')) {
    const match = /^(\d{9,11}) (\S+) (\S+)$/.exec(line.trim());
    if (!match) continue;
    const when = new Date(Number(match[1]) * 1000);
    newestAny = newer(newestAny, when);
    if (!RPM_BASE_PACKAGES.has(match[2] as string)) continue;
    count += 1;
    if (newest === null || when > newest) {
      newest = when;
      label = `${match[2]}-${match[3]}`;
    }
  }
  return { lastUpdate: newest, lastAnyChange: newestAny, updates: count, ...(label ? { lastUpdateLabel: label } : {}) };
}
