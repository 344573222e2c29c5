/**
 * The agent against servers of other versions (SPEC 7.2: "an agent accepts responses from
 * older and newer servers"), through the real control client over loopback HTTP: a
 * server of the previous contract (violations only, no findings, no hostname in the
 * register answer), a newer one (fields this agent does not know), and a broken one (an
 * answer of another shape: a clear error naming the field, never a cast).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlClient } from '../../src/agent/control-client.ts';
import { sendHeartbeat, sendReport } from '../../src/agent/reporting.ts';
import { registerResponse } from '../../src/shared/wire.ts';

/** The answer each path gives; tests replace them. */
const answers = new Map<string, unknown>();
const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const answer = answers.get(request.url ?? '');
    response.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer ?? { success: false, error: { code: 'not_found', message: 'no' } }));
  });
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const enrollment = { server_url: '', machine_id: 'm-1', node_key: 'nk', hostname: 'box', enrolled_at: '2026-12-02T00:00:00.000Z' };
const report = { os_version: 'Debian GNU/Linux 12', disk_encrypted: false, firewall_enabled: true, antivirus_enabled: true, patch_age_days: 45 };
const intervals = { heartbeat_interval_s: 30, posture_interval_s: 300, quarantine_poll_s: 60 };

describe('the agent and servers of other versions', () => {
  it('an older server: violations only; the agent derives the findings', async () => {
    answers.set('/api/posture-report', { compliant: false, violations: ['disk_encryption_required', 'patch_age_exceeded (45 > 30 days)'], quarantined: true, mode: 'enforce', status: 'quarantined' });
    const client = await createControlClient(url);
    try {
      const verdict = await sendReport(client, enrollment, report);
      expect(verdict.findings).toEqual([
        expect.objectContaining({ code: 'disk_encryption_required', signal: 'disk_encrypted', observed: false }),
        expect.objectContaining({ code: 'patch_age_exceeded', observed: 45, limit: 30 }),
      ]);
      answers.set('/api/register', { machine_id: 'm-1', node_key: 'nk', status: 'online', ...intervals });
      expect(await client.post('/api/register', {}, registerResponse)).toMatchObject({ machine_id: 'm-1' });
    } finally {
      await client.close();
    }
  });

  it('a newer server: fields this agent does not know are kept and ignored', async () => {
    answers.set('/api/posture-report', { compliant: true, violations: [], findings: [], quarantined: false, mode: 'enforce', status: 'online', ignored_fields: ['tpm_present'], report_nonce: 'n-2', grace: { until: null } });
    answers.set('/api/machine-heartbeat', { status: 'online', quarantined: false, mode: 'enforce', ...intervals, peers_version: 7, peers: [{ id: 'p', hostname: 'peer', os: 'linux', tags: [], online: true, last_seen: null, wg_public_key: 'x' }], pending_commands: [], report_nonce: 'n-3' });
    const client = await createControlClient(url);
    try {
      expect(await sendReport(client, enrollment, report)).toMatchObject({ compliant: true, findings: [], ignored_fields: ['tpm_present'] });
      const beat = await sendHeartbeat(client, enrollment, '0.2.0');
      expect(beat.peers?.[0]).toMatchObject({ hostname: 'peer' });
      expect(beat.peers_version).toBe(7);
    } finally {
      await client.close();
    }
  });

  // SPEC 7.3 (issue 15): a server that names the machine's tags and posture_state, and findings
  // with blocks_at / exempt_until. Each is optional: the older answers above still read.
  it('a server of the policy lifecycle: tags, posture_state, grace_until and timed findings are read', async () => {
    const findings = [
      { code: 'firewall_required', signal: 'firewall_enabled', required: true, observed: false, limit: null, message: 'off', blocks_at: '2026-12-04T18:44:00.000Z' },
      { code: 'antivirus_required', signal: 'antivirus_enabled', required: true, observed: true, limit: null, message: 'off', exempt_until: '2026-12-20T09:00:00.000Z' },
    ];
    answers.set('/api/register', { machine_id: 'm-1', node_key: 'nk', hostname: 'box', status: 'online', ...intervals, tags: ['build', 'ci'] });
    answers.set('/api/posture-report', { compliant: false, violations: ['firewall_required', 'antivirus_required'], findings, quarantined: false, mode: 'enforce', status: 'online', posture_state: 'grace', ignored_fields: [] });
    answers.set('/api/machine-heartbeat', { status: 'online', quarantined: false, mode: 'enforce', posture_state: 'grace', grace_until: '2026-12-04T18:44:00.000Z', tags: ['build'], ...intervals, peers_version: 2, peers: [] });
    const client = await createControlClient(url);
    try {
      expect(await client.post('/api/register', {}, registerResponse)).toMatchObject({ machine_id: 'm-1', tags: ['build', 'ci'] });
      const verdict = await sendReport(client, enrollment, report);
      expect(verdict.findings).toEqual(findings);
      expect(verdict.posture_state).toBe('grace');
      expect(await sendHeartbeat(client, enrollment, '0.2.0')).toMatchObject({ posture_state: 'grace', grace_until: '2026-12-04T18:44:00.000Z', tags: ['build'] });
      answers.set('/api/machine-heartbeat', { status: 'online', quarantined: false, mode: 'enforce', ...intervals, peers_version: 2, peers: [] });
      const older = await sendHeartbeat(client, enrollment, '0.2.0');
      expect([older.tags, older.posture_state, older.grace_until]).toEqual([undefined, undefined, undefined]);
      // A present field of the wrong type is refused by name, as any other.
      answers.set('/api/machine-heartbeat', { status: 'online', quarantined: false, mode: 'enforce', ...intervals, peers_version: 2, tags: 'build' });
      await expect(sendHeartbeat(client, enrollment, '0.2.0')).rejects.toThrow(/does not understand: tags:/);
    } finally {
      await client.close();
    }
  });

  it('a heartbeat answer without pending_commands (an early server) reads as none', async () => {
    answers.set('/api/machine-heartbeat', { status: 'online', quarantined: false, mode: 'monitor', ...intervals, peers_version: 1, peers: [] });
    const client = await createControlClient(url);
    try {
      expect((await sendHeartbeat(client, enrollment, '0.2.0')).pending_commands).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('an answer of another shape is an error that names the field, not a value taken on trust', async () => {
    answers.set('/api/posture-report', { compliant: 'yes', violations: [], quarantined: false, mode: 'enforce', status: 'online' });
    answers.set('/api/machine-heartbeat', { status: 'online', quarantined: false, mode: 'enforce', ...intervals, heartbeat_interval_s: 'soon', peers_version: 1 });
    const client = await createControlClient(url);
    try {
      await expect(sendReport(client, enrollment, report)).rejects.toThrow(/answered in a shape this agent does not understand: compliant:/);
      await expect(sendHeartbeat(client, enrollment, '0.2.0')).rejects.toThrow(/heartbeat_interval_s/);
    } finally {
      await client.close();
    }
  });
});
