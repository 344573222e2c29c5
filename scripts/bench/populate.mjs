// Fills a fresh database for scripts/bench-server directly through the store (one
// transaction), so 100,000 machines take seconds instead of 100,000 enrollments. Either
// engine: a new SQLite data directory, or an empty PostgreSQL database (migrated here,
// then written with multi-row INSERTs of 1,000 rows: one statement per row took 0.44 ms,
// about 90 s for 100,000 machines with their reports).
//
// One org ("default", so `ztna-server bootstrap` finds it) with `count` machines, each with
// a node key and a stored posture report consistent with the strict policy below under
// enforce mode — the state a settled deployment is in, so the load phases measure the
// steady state (no transition per request) unless they set out to cause one:
//
//   i odd        "bad":   disk not encrypted → quarantined (reason posture), risk 50
//   i % 4 == 0   "good":  everything on, patched 3 days ago → online, risk 0
//   i % 4 == 2   "aging": everything on, patched 14 days ago → online (≤ 30 days), risk 0;
//                         these fail when the policy is tightened to 7 days (re-evaluation)
//
// The policy itself and the enforce mode are set later through the admin API, as an
// admin would; the population is already consistent with them, so enabling enforce
// changes nothing.
import { randomUUID } from 'node:crypto';
import { generateKey } from '../../src/server/auth/keys.ts';
import { findOrCreateOrg } from '../../src/server/domain/orgs.ts';
import { riskScore } from '../../src/server/domain/risk.ts';
import { openPostgresStore, postgresCodec } from '../../src/server/store/postgres/postgres-store.ts';
import { quoteIdentifier } from '../../src/server/store/query.ts';
import { openSqliteStore } from '../../src/server/store/sqlite/sqlite-store.ts';
import { tableDef } from '../../src/server/store/tables.ts';
import { evaluatePosture } from '../../src/shared/posture.ts';

export const OS_VERSION = 'Ubuntu 24.04.1 LTS (6.8.0-45-generic)';

/** The policy POSTed before the report runs ("strict": everything required, 30 days). */
export const STRICT_POLICY = {
  name: 'bench strict',
  enabled: true,
  require_disk_encryption: true,
  require_firewall: true,
  require_antivirus: true,
  max_patch_age_days: 30,
};

/** The change whose re-evaluation is timed: 30 → 7 days quarantines every "aging" machine. */
export const TIGHTENED = { max_patch_age_days: 7 };

export function machineClass(i) {
  return i % 2 === 1 ? 'bad' : i % 4 === 0 ? 'good' : 'aging';
}

/** The signals machine i reports (and has stored). */
export function signalsOf(i) {
  const kind = machineClass(i);
  return {
    os_version: OS_VERSION,
    disk_encrypted: kind !== 'bad',
    firewall_enabled: true,
    antivirus_enabled: true,
    patch_age_days: kind === 'aging' ? 14 : 3,
  };
}

/** A failing variant of a good machine's report (the realtime phase quarantines with it). */
export function failingSignalsOf(i) {
  return { ...signalsOf(i), disk_encrypted: false };
}

/** Rows per multi-row INSERT on PostgreSQL (16 columns × 1,000 = 16,000 parameters, under the 65,535 limit). */
const BATCH = 1_000;

/**
 * Creates the org and `count` machines with reports in a new database:
 *   { engine: 'sqlite', dataDir }   a new data directory (a bare string means the same)
 *   { engine: 'postgres', url }     an empty PostgreSQL database
 * Returns the org id, every node key (index = machine number) and the machine ids.
 */
export async function populate(target, count) {
  const { engine, dataDir, url } = typeof target === 'string' ? { engine: 'sqlite', dataDir: target } : target;
  if (engine !== 'sqlite' && engine !== 'postgres') throw new Error(`populate: unknown engine ${engine}`);
  const store = engine === 'postgres' ? await openPostgresStore({ url, migrate: true }) : openSqliteStore({ dataDir });
  const keys = new Array(count);
  const ids = new Array(count);
  try {
    const now = new Date();
    const at = now.toISOString();
    const { org } = await findOrCreateOrg(store, 'default', now);
    const orgId = String(org.id);
    // Keys and ids are generated up front and inserted in ascending order of every indexed
    // column (random UUIDs and key ids would make each insert land on a random B-tree page:
    // 32 s instead of a few for 100,000 machines on SQLite's default 2 MB page cache). The
    // trees end up the same depth; the load phases visit machines in a scattered order.
    const nodes = Array.from({ length: count }, () => generateKey('node')).sort((a, b) => (a.id < b.id ? -1 : 1));
    const machineIds = Array.from({ length: count }, () => randomUUID()).sort();
    const reportIds = Array.from({ length: count }, () => randomUUID()).sort();
    const rowsOf = (i) => {
      const node = nodes[i];
      const signals = signalsOf(i);
      const verdict = evaluatePosture(signals, [STRICT_POLICY]);
      const quarantined = !verdict.compliant;
      const id = machineIds[i];
      keys[i] = node.key;
      ids[i] = id;
      const machine = {
        id,
        org_id: orgId,
        hostname: `bench-${String(i).padStart(6, '0')}`,
        os: 'linux',
        os_version: OS_VERSION,
        arch: 'x64',
        agent_version: '0.1.0',
        tags: ['bench'],
        status: quarantined ? 'quarantined' : 'online',
        quarantine_reason: quarantined ? 'posture' : null,
        last_seen: at,
        risk_score: riskScore(verdict.violations, quarantined),
        posture_exempt: false,
        created_at: at,
        node_key_id: node.id,
        node_key_hash: node.hash,
      };
      const report = {
        id: reportIds[i],
        machine_id: id,
        org_id: orgId,
        ...signals,
        compliant: verdict.compliant,
        violations: verdict.violations,
        mode: 'enforce',
        reported_at: at,
        extras: null,
      };
      return { machine, report };
    };
    await store.transaction(async (tx) => {
      if (engine === 'sqlite') {
        for (let i = 0; i < count; i++) {
          const { machine, report } = rowsOf(i);
          await tx.insert('machines', machine);
          await tx.insert('posture_reports', report);
        }
        return;
      }
      for (let from = 0; from < count; from += BATCH) {
        const batch = [];
        for (let i = from; i < Math.min(count, from + BATCH); i++) batch.push(rowsOf(i));
        await insertMany(tx, 'machines', batch.map((rows) => rows.machine));
        await insertMany(tx, 'posture_reports', batch.map((rows) => rows.report));
      }
    });
    if (engine === 'postgres') {
      // A settled database has planner statistics and a visibility map; without them the
      // first minute of the run would be planned blind and autovacuum would start mid-run.
      for (const table of ['machines', 'posture_reports']) await store.execute(`VACUUM (ANALYZE) ${quoteIdentifier(table)}`, []);
    }
    return { orgId, keys, ids };
  } finally {
    await store.close();
  }
}

/**
 * One multi-row INSERT on PostgreSQL, values encoded by the store's own codec (the form
 * the store itself writes). Runs on the store's transaction connection (`execute`, the
 * PostgreSQL store's raw statement entry, which its event relay uses too).
 */
async function insertMany(tx, table, rows) {
  const def = tableDef(table);
  const columns = Object.keys(rows[0]).filter((key) => def.columns[key]);
  const params = [];
  const tuples = rows.map((row) => `(${columns.map((key) => `$${params.push(postgresCodec.encode(def.columns[key], row[key]))}`).join(', ')})`);
  await tx.execute(`INSERT INTO ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(', ')}) VALUES ${tuples.join(', ')}`, params);
}
