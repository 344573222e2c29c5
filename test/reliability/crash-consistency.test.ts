/**
 * Crash consistency with real processes (issue 7, item 3), on SQLite and on PostgreSQL.
 *
 * A real `ztna-server serve` process, an org in enforce mode with a strict policy, 60
 * synthetic devices each sending 20 posture reports (random verdicts) — all 60 devices at
 * once, each device one report at a time — while the server is killed with SIGKILL five
 * times at random moments and restarted on the same data. The client keeps a ledger of
 * every report: its verdict, its place in the device's order, and its fate (acknowledged
 * with a 2xx, or lost because the kill cut the connection).
 *
 * Why every lost report can be resolved exactly (no guessing, no loose bounds):
 * - A device has at most one report in flight, so the reports of one device reach the
 *   server in ledger order, and a kill catches at most one report per device.
 * - The load is paused (a gate) *before* the kill, so no report is sent between the kill
 *   and the post-restart snapshot; the only unresolved report of a device is therefore
 *   its last one.
 * - Nothing of a killed process commits after it is dead: SQLite commits inside the
 *   process; on PostgreSQL the test waits until every backend of the dead process has
 *   ended (a backend that lost its client rolls back) before restarting.
 * - The report's `os_version` names its ledger entry, and the server keeps one report per
 *   machine (SPEC section 3: the newest replaces the older).
 * So after each restart a device's stored report is either its last acknowledged report
 * (the lost one was not applied) or the lost one (it was applied; its answer was lost).
 * Anything else — an acknowledged report missing, an older one back, an unknown one — is
 * an inconsistency. With every report's fate known, the applied sequence per device is
 * known, and with it exactly how many online→quarantined transitions (and releases) it
 * implies: the audit log must hold exactly that many `machine.auto_quarantine`
 * (`machine.auto_unquarantine`) events, and the machine's status must be what its newest
 * stored report says in enforce mode (non-compliant ⇒ quarantined, compliant ⇒ online;
 * nothing here quarantines by hand, and no device goes offline: offline_after_s is an hour).
 * These checks run after every restart and at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createCommandRunner } from '../../src/platform/command-runner.ts';
import type { RunningProcess } from '../../src/platform/command-runner.ts';
import { ROOT } from '../support/cli.ts';
import { postgresProblem } from '../support/postgres.ts';

const PG_URL = process.env.ZTNA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MACHINES = 60;
const REPORTS_PER_MACHINE = 20;
const KILLS = 5;
/** A failing run prints its seed; ZTNA_CRASH_SEED replays the same verdicts and kill points. */
const SEED = Number(process.env.ZTNA_CRASH_SEED ?? randomBytes(4).readUInt32BE(0));

const runner = createCommandRunner({
  platform: process.platform,
  // PostgreSQL: the signing secret lives in the database, so tokens survive restarts.
  env: { ...process.env, ZTNA_JWT_SECRET: '' },
  allowList: { 'ztna-server': { paths: { [process.platform]: [join(ROOT, 'bin/ztna-server')] }, timeoutMs: 60_000 } },
});

const pgProblem = process.platform === 'win32' ? 'not on Windows' : await postgresProblem(PG_URL);
if (pgProblem) {
  process.stderr.write(`\n*** crash-consistency [postgres] SKIPPED: cannot use ${PG_URL.replace(/\/\/[^@/]*@/, '//…@')} (${pgProblem}).\n\n`);
}

/** mulberry32: small, seedable, good enough to pick verdicts and kill points. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface EngineUnderTest {
  readonly name: 'sqlite' | 'postgres';
  /** `--data DIR` or `--db URL`, for serve and bootstrap alike. */
  readonly storeArgs: string[];
  /** Resolves once nothing of a killed server can still commit. */
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

function sqliteEngine(): EngineUnderTest {
  const data = mkdtempSync(join(tmpdir(), 'ztna-crash-'));
  return {
    name: 'sqlite',
    storeArgs: ['--data', data],
    // SQLite commits inside the server process: once it has exited, its writes are final.
    settle: async () => {},
    dispose: async () => rmSync(data, { recursive: true, force: true }),
  };
}

async function postgresEngine(): Promise<EngineUnderTest> {
  const database = `ztna_crash_${randomBytes(5).toString('hex')}`;
  const databaseUrl = PG_URL.replace(/\/[^/?]*(\?|$)/, `/${database}$1`);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  return {
    name: 'postgres',
    storeArgs: ['--db', databaseUrl],
    async settle() {
      // A backend whose client died rolls its open transaction back and exits; wait until
      // every backend of the killed process is gone (no server runs meanwhile).
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
        if (rows[0].n === 0) return;
        if (Date.now() > deadline) throw new Error(`${rows[0].n} backend(s) of the killed server still alive after 20 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async dispose() {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** One report of the ledger. `applied` is known at once for a 2xx, after the next restart otherwise. */
interface Entry {
  readonly seq: number;
  readonly compliant: boolean;
  readonly outcome: 'acked' | 'lost' | 'http_error';
  readonly status?: number;
  applied?: boolean;
}

interface Device {
  readonly index: number;
  readonly id: string;
  readonly nodeKey: string;
  readonly entries: Entry[];
}

const reportBody = (device: Device, seq: number, compliant: boolean) => ({
  node_key: device.nodeKey,
  // Names the ledger entry: the stored row says which report it is.
  os_version: `crash-${device.index}-${seq}`,
  disk_encrypted: compliant,
  firewall_enabled: compliant,
  antivirus_enabled: compliant,
  patch_age_days: 3,
});
const seqOf = (osVersion: unknown) => Number(/^crash-\d+-(\d+)$/.exec(String(osVersion))?.[1] ?? Number.NaN);

/** The transitions a sequence of enforce-mode verdicts makes, starting `online`. */
function transitions(verdicts: readonly boolean[]): { quarantines: number; releases: number } {
  let quarantined = false;
  let quarantines = 0;
  let releases = 0;
  for (const compliant of verdicts) {
    if (!compliant && !quarantined) {
      quarantined = true;
      quarantines += 1;
    } else if (compliant && quarantined) {
      quarantined = false;
      releases += 1;
    }
  }
  return { quarantines, releases };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function crashScenario(engine: EngineUnderTest): Promise<void> {
  const random = prng(SEED ^ (engine.name === 'postgres' ? 0x9e3779b9 : 0));
  const incarnations: RunningProcess[] = [];
  let server: RunningProcess | undefined;
  let url = '';
  cleanups.push(async () => server?.stop('SIGKILL'));

  const startServer = async () => {
    server = await runner.start('ztna-server', ['serve', '--listen', '127.0.0.1:0', ...engine.storeArgs, '--log-level', 'warn']);
    incarnations.push(server);
    // Port 0 each time: a report can only ever reach the incarnation it was sent to.
    url = (await server.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/, 30_000))[1] as string;
  };
  await startServer();
  const boot = await runner.run('ztna-server', ['bootstrap', ...engine.storeArgs, '--json']);
  expect(boot.exitCode, boot.stderr).toBe(0);
  const { org_id: orgId, admin_token: token } = JSON.parse(boot.stdout);
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const parsed = (await response.json()) as any;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(parsed)}`);
    return parsed.data as any[];
  };

  // Enforce before anyone registers (no re-evaluation during the load); nobody goes offline.
  await admin('PATCH', '/api/db/org_settings', { _filters: { org_id: orgId }, posture_enforcement: 'enforce', offline_after_s: 3600 });
  await admin('POST', '/api/db/posture_policies', { require_disk_encryption: true, require_firewall: true, require_antivirus: true });
  const [authKey] = await admin('POST', '/api/db/auth_keys', { description: 'crash-consistency', reusable: true });
  const devices: Device[] = [];
  for (let batch = 0; batch < MACHINES; batch += 10) {
    const registered = await Promise.all(
      Array.from({ length: Math.min(10, MACHINES - batch) }, async (_, offset) => {
        const response = await fetch(`${url}/api/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ auth_key: authKey.key, hostname: `crash-box-${batch + offset}` }),
        });
        const body = (await response.json()) as any;
        if (response.status !== 200) throw new Error(`register: ${response.status} ${JSON.stringify(body)}`);
        return { index: batch + offset, id: String(body.machine_id), nodeKey: String(body.node_key), entries: [] };
      }),
    );
    devices.push(...registered);
  }

  const inconsistencies: string[] = [];
  let fiveXX = 0;
  let completed = 0;
  let inFlight = 0;
  let fatal: unknown = null;

  // The gate: open during load, closed from just before a kill until the snapshot is checked.
  let gateOpen = true;
  let gate: Promise<void> = Promise.resolve();
  let openGate = () => {};
  const closeGate = () => {
    gateOpen = false;
    gate = new Promise((resolve) => (openGate = resolve));
  };
  const reopen = () => {
    gateOpen = true;
    openGate();
  };

  /** After every restart (and at the end): resolve lost reports, then check store, status, audit. */
  const checkSnapshot = async (when: string) => {
    const reports = new Map((await admin('GET', `/api/db/posture_reports?org_id=eq.${orgId}`)).map((row) => [String(row.machine_id), row]));
    const machines = new Map((await admin('GET', `/api/db/machines?org_id=eq.${orgId}`)).map((row) => [String(row.id), row]));
    const audit = await admin('GET', `/api/db/audit_log?org_id=eq.${orgId}&event=in.(machine.auto_quarantine,machine.auto_unquarantine,machine.manual_quarantine,machine.manual_unquarantine)`);
    const events = new Map<string, { quarantines: number; releases: number; manual: number }>();
    for (const row of audit) {
      const counts = events.get(String(row.machine_id)) ?? { quarantines: 0, releases: 0, manual: 0 };
      if (row.event === 'machine.auto_quarantine') counts.quarantines += 1;
      else if (row.event === 'machine.auto_unquarantine') counts.releases += 1;
      else counts.manual += 1;
      events.set(String(row.machine_id), counts);
    }
    for (const device of devices) {
      const problem = (text: string) => inconsistencies.push(`${when}: machine ${device.index}: ${text}`);
      const stored = reports.get(device.id);
      const storedSeq = stored ? seqOf(stored.os_version) : null;
      const settled = device.entries.filter((entry) => entry.applied !== undefined);
      const unresolved = device.entries.filter((entry) => entry.applied === undefined);
      const lastApplied = settled.filter((entry) => entry.applied).at(-1)?.seq ?? null;
      // At most one report per device is caught by a kill, and it is the device's last one.
      if (unresolved.length > 1 || (unresolved[0] && unresolved[0] !== device.entries.at(-1))) {
        problem(`harness broke its own rule: unresolved reports ${unresolved.map((entry) => entry.seq).join(', ')}`);
      }
      const lost = unresolved[0];
      if (lost && storedSeq === lost.seq) lost.applied = true;
      else if (storedSeq === lastApplied) {
        if (lost) lost.applied = false;
      } else {
        problem(`stored report is #${String(storedSeq)}, expected #${String(lastApplied)}${lost ? ` or the lost #${lost.seq}` : ''} (a 2xx report missing, or a report from nowhere)`);
        continue;
      }
      const applied = device.entries.filter((entry) => entry.applied);
      const newest = applied.at(-1);
      const machine = machines.get(device.id);
      const expectedStatus = newest && !newest.compliant ? 'quarantined' : 'online';
      if (!machine) {
        problem('machine row missing');
        continue;
      }
      if (machine.status !== expectedStatus) problem(`status ${String(machine.status)} but its newest report #${String(newest?.seq)} says ${expectedStatus}`);
      if (machine.status === 'quarantined' && machine.quarantine_reason !== 'posture') problem(`quarantine_reason ${String(machine.quarantine_reason)}`);
      if (stored && newest) {
        if (stored.compliant !== newest.compliant || stored.mode !== 'enforce') problem(`stored verdict ${String(stored.compliant)}/${String(stored.mode)} for a ${newest.compliant ? 'compliant' : 'non-compliant'} report`);
        if ((stored.violations as string[]).length === 0 !== newest.compliant) problem(`violations ${JSON.stringify(stored.violations)} stored for a ${newest.compliant ? 'compliant' : 'non-compliant'} report`);
      }
      const expected = transitions(applied.map((entry) => entry.compliant));
      const seen = events.get(device.id) ?? { quarantines: 0, releases: 0, manual: 0 };
      if (seen.quarantines !== expected.quarantines || seen.releases !== expected.releases || seen.manual !== 0) {
        problem(`audit has ${seen.quarantines} auto_quarantine / ${seen.releases} auto_unquarantine / ${seen.manual} manual, the applied reports imply ${expected.quarantines} / ${expected.releases} / 0`);
      }
    }
    if (reports.size > devices.length) inconsistencies.push(`${when}: ${reports.size} stored reports for ${devices.length} machines`);
  };

  let crashing: Promise<void> | null = null;
  let kills = 0;
  const crashAndRestart = async () => {
    closeGate();
    // Somewhere in the middle of whatever the 60 devices have in flight right now.
    await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 25)));
    await server?.stop('SIGKILL');
    kills += 1;
    const deadline = Date.now() + 30_000;
    while (inFlight > 0) {
      if (Date.now() > deadline) throw new Error(`${inFlight} report(s) still in flight 30 s after the kill`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await engine.settle();
    await startServer();
    await checkSnapshot(`after kill ${kills}`);
    reopen();
  };

  // Kill points: one at a random place in each of KILLS equal slices of 10 %–90 % of the load.
  const total = MACHINES * REPORTS_PER_MACHINE;
  const killAt = Array.from({ length: KILLS }, (_, i) => Math.floor(total * (0.1 + (0.8 * (i + random())) / KILLS)));
  const verdicts = devices.map(() => Array.from({ length: REPORTS_PER_MACHINE }, () => random() < 0.5));

  const sendOne = async (device: Device, seq: number, compliant: boolean): Promise<Entry> => {
    try {
      const response = await fetch(`${url}/api/posture-report`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(reportBody(device, seq, compliant)),
        // Far beyond any answer of a live server; a dead one resets the connection at once.
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await response.json().catch(() => null)) as any;
      if (response.status >= 500) fiveXX += 1;
      if (response.status < 200 || response.status > 299) {
        inconsistencies.push(`machine ${device.index} report #${seq}: HTTP ${response.status} ${JSON.stringify(body)}`);
        return { seq, compliant, outcome: 'http_error', status: response.status };
      }
      const expected = { compliant, quarantined: !compliant, mode: 'enforce', status: compliant ? 'online' : 'quarantined' };
      if (body === null || body.compliant !== expected.compliant || body.quarantined !== expected.quarantined || body.mode !== expected.mode || body.status !== expected.status) {
        inconsistencies.push(`machine ${device.index} report #${seq}: answer ${JSON.stringify(body)}, expected ${JSON.stringify(expected)}`);
      }
      return { seq, compliant, outcome: 'acked', status: response.status, applied: true };
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') throw new Error(`report #${seq} of machine ${device.index} got no answer in 30 s`, { cause: error });
      // The kill cut the connection: applied or not, the next snapshot tells.
      return { seq, compliant, outcome: 'lost' };
    }
  };

  const worker = async (device: Device) => {
    for (let seq = 0; seq < REPORTS_PER_MACHINE; seq++) {
      while (!gateOpen) await gate;
      if (fatal) return;
      inFlight += 1;
      const entry = await sendOne(device, seq, verdicts[device.index]?.[seq] as boolean).finally(() => (inFlight -= 1));
      device.entries.push(entry);
      completed += 1;
      if (!crashing && kills < KILLS && completed >= (killAt[kills] as number)) {
        crashing = crashAndRestart()
          .catch((error: unknown) => {
            fatal = error;
            reopen();
          })
          .finally(() => (crashing = null));
      }
    }
  };

  const started = performance.now();
  await Promise.all(devices.map(worker));
  while (crashing) await crashing;
  if (fatal) throw fatal;
  await checkSnapshot('at the end');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);

  const entries = devices.flatMap((device) => device.entries);
  const lost = entries.filter((entry) => entry.outcome === 'lost');
  const totals = devices.map((device) => transitions(device.entries.filter((entry) => entry.applied).map((entry) => entry.compliant)));
  console.log(`crash-consistency [${engine.name}]: ${kills} kills survived, ${entries.length} reports checked, ${fiveXX} 5xx, ${inconsistencies.length} inconsistencies`);
  console.log(
    `  (${engine.name}: ${entries.filter((entry) => entry.outcome === 'acked').length} acknowledged; ${lost.length} lost to a kill, of which ${lost.filter((entry) => entry.applied).length} had been applied; ` +
      `${totals.reduce((sum, t) => sum + t.quarantines, 0)} auto-quarantines and ${totals.reduce((sum, t) => sum + t.releases, 0)} releases audited as implied; ${seconds} s of load; seed ${SEED})`,
  );

  expect(inconsistencies.slice(0, 20), `seed ${SEED}`).toEqual([]);
  expect(fiveXX).toBe(0);
  expect(kills).toBe(KILLS);
  expect(entries).toHaveLength(total);
  // The server never logged an unexpected error in any incarnation.
  for (const incarnation of incarnations) expect(incarnation.output.stderr).not.toMatch(/unhandled error|"level":50|"level":60/);
  expect(await server?.stop('SIGTERM')).toBe(0);
}

describe.runIf(process.platform !== 'win32')('crash consistency under SIGKILL (real server processes)', () => {
  it('SQLite: every acknowledged report survives, statuses and audit events agree', { timeout: 120_000 }, async () => {
    const engine = sqliteEngine();
    cleanups.push(() => engine.dispose());
    await crashScenario(engine);
  });

  it.skipIf(pgProblem !== null)('PostgreSQL: every acknowledged report survives, statuses and audit events agree', { timeout: 120_000 }, async () => {
    const engine = await postgresEngine();
    cleanups.push(() => engine.dispose());
    await crashScenario(engine);
  });
});
