/**
 * The typed data layer (issue 14, item 7): row types come from the table descriptions, so
 * the compiler — `npm test` runs tsc over this file — refuses a forgotten column, an
 * unknown one, or a value outside a column's vocabulary. The run-time half checks what the
 * compiler cannot: that the database accepts every value of each vocabulary and refuses
 * others, and that lists of columns built at load time are checked.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { eq } from '../../src/server/store/query.ts';
import type { Store } from '../../src/server/store/store.ts';
import { ConstraintError } from '../../src/server/store/store.ts';
import type { ColumnName, MachineRow, NewRow, Patch, RowOf, StoredTime, TableName } from '../../src/server/store/tables.ts';
import { TABLES, columnNames, isoOf } from '../../src/server/store/tables.ts';
import type { PostureFinding } from '../../src/shared/posture.ts';
import { COMPLIANT, startTestServer } from './harness.ts';
import type { TestServer } from './harness.ts';

describe('row types derived from store/tables.ts', () => {
  it('give each column its type, vocabulary and nullability', () => {
    expectTypeOf<MachineRow['status']>().toEqualTypeOf<'online' | 'offline' | 'quarantined'>();
    expectTypeOf<MachineRow['quarantine_reason']>().toEqualTypeOf<'posture' | 'expired' | 'manual' | null>();
    expectTypeOf<MachineRow['posture_state']>().toEqualTypeOf<'pending' | 'compliant' | 'failing' | 'grace' | 'exempt'>();
    expectTypeOf<MachineRow['tags']>().toEqualTypeOf<string[]>();
    expectTypeOf<MachineRow['last_seen']>().toEqualTypeOf<StoredTime | null>();
    expectTypeOf<MachineRow['risk_score']>().toEqualTypeOf<number>();
    expectTypeOf<RowOf<'posture_reports'>['findings']>().toEqualTypeOf<PostureFinding[]>();
    expectTypeOf<RowOf<'posture_reports'>['disk_encrypted']>().toEqualTypeOf<boolean | null>();
    expectTypeOf<RowOf<'org_settings'>['report_max_age_s']>().toEqualTypeOf<number | null>();
    expectTypeOf<ColumnName<'acl_rules'>>().toEqualTypeOf<'id' | 'org_id' | 'name' | 'priority' | 'action' | 'src' | 'dst' | 'ports' | 'src_posture' | 'created_at'>();
  });

  it('refuse a row that forgets a column, names an unknown one, or leaves a vocabulary', () => {
    const rule: NewRow<'acl_rules'> = { id: 'r', org_id: 'o', name: 'n', priority: 1, action: 'allow', src: '*', dst: '*', ports: '*', created_at: '2026-01-01T00:00:00.000Z' };
    // @ts-expect-error — `ports` forgotten: the compiler names it instead of the database at run time
    const forgotten: NewRow<'acl_rules'> = { id: 'r', org_id: 'o', name: 'n', priority: 1, action: 'allow', src: '*', dst: '*', created_at: '2026-01-01T00:00:00.000Z' };
    // @ts-expect-error — not a column of machines
    const unknown: Patch<'machines'> = { hostnme: 'typo' };
    // @ts-expect-error — not a machine status
    const outside: Patch<'machines'> = { status: 'blocked' };
    // Nullable columns may be left out of a new row (they are NULL).
    const command: NewRow<'agent_commands'> = { id: 'c', org_id: 'o', machine_id: 'm', command: 'enable_firewall', status: 'pending', created_at: 'x', expires_at: 'x' };
    expect([rule, forgotten, unknown, outside, command]).toHaveLength(5);
  });

  it('type a select by the columns it reads', () => {
    const select = (store: Store) => store.select('machines', { columns: ['id', 'status'] });
    expectTypeOf<Awaited<ReturnType<typeof select>>[number]>().toEqualTypeOf<Pick<MachineRow, 'id' | 'status'>>();
    // @ts-expect-error — not a column of machines
    const wrong = (store: Store) => store.select('machines', { columns: ['id', 'nope'] });
    expect([typeof select, typeof wrong]).toEqual(['function', 'function']);
  });

  it('check column lists built at load time (columnNames) and show timestamps as ISO strings', () => {
    expect(columnNames('posture_reports', ['id', 'disk_encrypted'])).toEqual(['id', 'disk_encrypted']);
    expect(() => columnNames('posture_reports', ['id', 'os_version_number'])).toThrow(/posture_reports\.os_version_number is not a column/);
    expect(isoOf('2026-12-02T10:00:00.000Z')).toBe('2026-12-02T10:00:00.000Z');
    expect(isoOf(new Date(Date.UTC(2026, 11, 2, 10)))).toBe('2026-12-02T10:00:00.000Z');
  });
});

/**
 * Columns whose vocabulary the database does not enforce: their migrations created them
 * without a CHECK, and the server writes them only from typed values (posture_reports.mode
 * from the org's mode, deleted_machines' from the deleted row). Listed, not skipped silently.
 */
const UNCHECKED = new Set(['posture_reports.mode', 'deleted_machines.status', 'deleted_machines.quarantine_reason']);

describe('column vocabularies agree with the database', () => {
  let server: TestServer;
  /** One row id per table that has a vocabulary column. */
  const rowOf = new Map<TableName, { column: string; value: string }>();

  beforeAll(async () => {
    server = await startTestServer();
    const org = await server.org();
    const { machine_id, node_key } = await org.register('vocab-1');
    expect((await server.report(node_key, COMPLIANT)).status).toBe(200);
    const command = await org.admin('POST', '/api/db/agent_commands', { machine_id, command: 'enable_firewall' });
    expect(command.status).toBe(200);
    const rule = await org.admin('GET', '/api/db/acl_rules');
    const doomed = await org.register('vocab-2');
    expect((await org.admin('DELETE', `/api/db/machines?id=eq.${doomed.machine_id}`)).status).toBe(200);
    rowOf.set('machines', { column: 'id', value: machine_id });
    rowOf.set('org_settings', { column: 'org_id', value: org.orgId });
    rowOf.set('posture_reports', { column: 'machine_id', value: machine_id });
    rowOf.set('agent_commands', { column: 'id', value: command.body.data[0].id });
    rowOf.set('acl_rules', { column: 'id', value: rule.body.data[0].id });
    rowOf.set('deleted_machines', { column: 'id', value: doomed.machine_id });
  });
  afterAll(() => server?.close());

  const vocabularies = Object.values(TABLES).flatMap((table) =>
    Object.entries(table.columns as Record<string, { values?: readonly string[] }>)
      .filter(([, column]) => column.values)
      .map(([column, def]) => ({ table: table.name as TableName, column, values: def.values as readonly string[] })),
  );

  it('finds the vocabulary columns', () => {
    expect(vocabularies.map(({ table, column }) => `${table}.${column}`).sort()).toEqual(
      [
        'acl_rules.action',
        'agent_commands.command',
        'agent_commands.status',
        'deleted_machines.quarantine_reason',
        'deleted_machines.status',
        'machines.posture_state',
        'machines.quarantine_reason',
        'machines.status',
        'org_settings.posture_enforcement',
        'posture_reports.mode',
      ].sort(),
    );
  });

  it.each(vocabularies)('$table.$column: every value is stored, others refused by the database', async ({ table, column, values }) => {
    const row = rowOf.get(table);
    if (!row) throw new Error(`no ${table} row to test with`);
    const where = [eq(row.column, row.value)];
    // Store.update is typed per table; this test walks every table alike.
    const update = (value: string) => (server.store.update as (t: TableName, w: typeof where, p: Record<string, unknown>) => Promise<unknown[]>)(table, where, { [column]: value });
    for (const value of values) expect(await update(value)).toHaveLength(1);
    if (UNCHECKED.has(`${table}.${column}`)) return;
    await expect(update('not-in-the-vocabulary')).rejects.toBeInstanceOf(ConstraintError);
  });
});
