/**
 * Schema migrations 5 (SPEC 7.1) and 6 (SPEC 7.2) on a database written by an earlier
 * release (schema 4), on both engines: ACL rules keep their meaning in the typed selector
 * form, hostnames get their comparison keys, posture_state reflects the stored verdicts,
 * collected_at is the report time, intervals above a day are clamped, machines keep their
 * tags; stored verdicts gain their findings and policies read with every v2 requirement
 * at its default.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, renderMigration, statements } from '../../src/server/store/migrations.ts';
import { PG_TYPES, openPostgresStore } from '../../src/server/store/postgres/postgres-store.ts';
import { SQLITE_TYPES, openSqliteStore } from '../../src/server/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/server/store/store.ts';
import { eq } from '../../src/server/store/query.ts';
import { policyApiRow } from '../../src/server/domain/tables/posture-policies.ts';
import { reportApiRow } from '../../src/server/domain/tables/posture-reports.ts';
import { TEST_ENGINE, TEST_PG_URL } from './harness.ts';

const at = '2026-11-01T10:00:00.000Z';
const org = randomUUID();
const ids = { alpha: randomUUID(), bravo: randomUUID(), legacy: randomUUID(), exempt: randomUUID() };
/** A machine of the old release that named itself like a UUID no machine has as id. */
const uuidHostname = randomUUID();

/** The rows a schema-4 server would hold, as [table, columns, values]. */
function legacyRows(bool: (value: boolean) => unknown, json: (value: unknown) => unknown): Array<[string, Record<string, unknown>]> {
  const machine = (id: string, hostname: string, tags: string[], exempt = false) => ({
    id, org_id: org, hostname, os: 'linux', os_version: '12', arch: 'amd64', agent_version: '0.1.0', tags: json(tags), status: 'online', quarantine_reason: null,
    last_seen: at, risk_score: 0, posture_exempt: bool(exempt), created_at: at, node_key_id: randomBytes(8).toString('hex'), node_key_hash: 'x',
  });
  const report = (machineId: string, compliant: boolean) => ({
    id: randomUUID(), machine_id: machineId, org_id: org, os_version: '12', disk_encrypted: bool(compliant), firewall_enabled: bool(true), antivirus_enabled: bool(true),
    patch_age_days: 1, compliant: bool(compliant), violations: json(compliant ? [] : ['disk_encryption_required']), mode: 'monitor', reported_at: at, extras: null,
  });
  const rule = (name: string, priority: number, src: string, dst: string) => ({ id: randomUUID(), org_id: org, name, priority, action: 'allow', src, dst, ports: '*', created_at: at });
  return [
    ['orgs', { id: org, name: 'legacy', created_at: at }],
    ['org_state', { org_id: org, peers_version: 1 }],
    ['org_settings', { org_id: org, posture_enforcement: 'monitor', ai_operator_enabled: bool(false), auto_remediate_firewall: bool(false), auto_remediate_encryption: bool(false), heartbeat_interval_s: 3_000_000, posture_interval_s: 300, quarantine_poll_s: 60, offline_after_s: 120, report_max_age_s: 31_536_000, updated_at: at }],
    ['machines', machine(ids.alpha, 'Alpha', ['Dev:team'])],
    ['machines', machine(ids.bravo, 'bravo', ['prod'])],
    ['machines', machine(ids.legacy, uuidHostname, [])],
    ['machines', machine(ids.exempt, 'exempt-box', [], true)],
    ['posture_reports', report(ids.alpha, true)],
    ['posture_reports', report(ids.bravo, false)],
    ['posture_policies', { id: randomUUID(), org_id: org, name: 'baseline', enabled: bool(true), require_disk_encryption: bool(true), require_firewall: bool(false), require_antivirus: bool(false), max_patch_age_days: 30, created_at: at, updated_at: at }],
    ['acl_rules', rule('bare-host-to-bare-id', 10, 'alpha', ids.bravo)],
    ['acl_rules', rule('uuid-hostname', 20, uuidHostname, `${ids.alpha} , tag:prod`)],
    ['acl_rules', rule('already-typed', 30, 'tag:Dev:team,*', `id:${ids.bravo}`)],
  ];
}

let store: Store;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const legacy = MIGRATIONS.filter((migration) => migration.version <= 4);
  if (TEST_ENGINE === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ztna-migration-'));
    const db = new DatabaseSync(join(dir, 'ztna.db'));
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const migration of legacy) {
      for (const statement of statements(renderMigration(migration.sql, SQLITE_TYPES))) db.exec(statement);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(migration.version, migration.name, at);
    }
    for (const [table, row] of legacyRows((value) => (value ? 1 : 0), (value) => JSON.stringify(value))) {
      db.prepare(`INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map(() => '?').join(', ')})`).run(...(Object.values(row) as Array<string | number | null>));
    }
    db.close();
    store = openSqliteStore({ dataDir: dir });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `ztna_migration_${randomBytes(5).toString('hex')}`;
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)');
    for (const migration of legacy) {
      for (const statement of statements(renderMigration(migration.sql, PG_TYPES))) await client.query(statement);
      await client.query('INSERT INTO schema_migrations VALUES ($1, $2, now())', [migration.version, migration.name]);
    }
    for (const [table, row] of legacyRows((value) => value, (value) => JSON.stringify(value))) {
      await client.query(`INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
    }
    await client.end();
    store = await openPostgresStore({ url: TEST_PG_URL, schema, poolSize: 2 });
    cleanup = async () => {
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    };
  }
}, 60_000);

afterAll(async () => {
  await store?.close();
  await cleanup?.();
});

describe(`migration 5 on a schema-4 database (${TEST_ENGINE})`, () => {
  it('rewrites bare rule entries to typed selectors that mean what they meant', async () => {
    const rules = Object.fromEntries((await store.select('acl_rules')).map((rule) => [rule.name, [rule.src, rule.dst]]));
    expect(rules['bare-host-to-bare-id']).toEqual(['host:alpha', `id:${ids.bravo}`]);
    // A bare UUID that named no machine id but a machine's (legacy) hostname keeps naming that machine.
    expect(rules['uuid-hostname']).toEqual([`host:${uuidHostname}`, `id:${ids.alpha},tag:prod`]);
    expect(rules['already-typed']).toEqual(['tag:Dev:team,*', `id:${ids.bravo}`]);
  });

  it('fills hostname keys and keeps hostnames and tags as they were', async () => {
    const alpha = await store.selectOne('machines', [eq('id', ids.alpha)]);
    expect(alpha).toMatchObject({ hostname: 'Alpha', hostname_key: 'alpha', tags: ['Dev:team'] });
  });

  it('sets posture_state from the stored verdicts: compliant, failing, pending (no report), exempt', async () => {
    const states = Object.fromEntries((await store.select('machines', { columns: ['id', 'posture_state'] })).map((row) => [row.id, row.posture_state]));
    expect(states).toEqual({ [ids.alpha]: 'compliant', [ids.bravo]: 'failing', [ids.legacy]: 'pending', [ids.exempt]: 'exempt' });
  });

  it('dates collected_at at the report time and clamps intervals above a day', async () => {
    for (const report of await store.select('posture_reports')) expect(new Date(report.collected_at as string).toISOString()).toBe(new Date(report.reported_at as string).toISOString());
    const settings = await store.selectOne('org_settings', [eq('org_id', org)]);
    expect(settings).toMatchObject({ heartbeat_interval_s: 86_400, posture_interval_s: 300, report_max_age_s: 86_400 });
  });
});

describe(`migration 6 on a schema-4 database (${TEST_ENGINE})`, () => {
  it('gives every stored verdict its findings, keeps its violations, and reads later signals as unknown', async () => {
    const reports = Object.fromEntries((await store.select('posture_reports')).map((report) => [report.machine_id, report]));
    expect(reports[ids.alpha]).toMatchObject({ violations: [], findings: [], signals: {}, os_version: '12', platform: null, agent_version: null });
    expect(reports[ids.bravo]?.violations).toEqual(['disk_encryption_required']);
    expect(reports[ids.bravo]?.findings).toEqual([{ code: 'disk_encryption_required', signal: 'disk_encrypted', required: true, observed: false, limit: null, message: expect.stringMatching(/^disk_encryption_required/) }]);
    const shown = reportApiRow(reports[ids.bravo] as Record<string, unknown>);
    expect(shown).toMatchObject({ screen_lock_enabled: null, secure_boot_enabled: null, os_version_number: null, disk_encrypted: false });
    expect(shown).not.toHaveProperty('signals');
  });

  it('keeps every policy as it was, with the v2 requirements at their defaults', async () => {
    const [policy] = await store.select('posture_policies');
    expect(policyApiRow(policy as Record<string, unknown>)).toMatchObject({
      name: 'baseline',
      require_disk_encryption: true,
      max_patch_age_days: 30,
      require_screen_lock: false,
      require_secure_boot: false,
      min_os_versions: null,
      min_agent_version: null,
    });
  });

  it('accepts a report without os_version now (SPEC 7.2: absent is unknown)', async () => {
    await store.upsert('posture_reports', { id: randomUUID(), machine_id: ids.legacy, org_id: org, os_version: null, disk_encrypted: null, firewall_enabled: null, antivirus_enabled: null, patch_age_days: null, signals: { screen_lock_enabled: true }, platform: 'linux', agent_version: '0.2.0', compliant: true, violations: [], findings: [], mode: 'monitor', reported_at: at, collected_at: at, extras: null }, 'machine_id', ['id']);
    expect(await store.selectOne('posture_reports', [eq('machine_id', ids.legacy)])).toMatchObject({ os_version: null, signals: { screen_lock_enabled: true } });
  });
});
