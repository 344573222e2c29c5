/**
 * `ztna up` and a server that limits enrolments (SPEC 7.1): a 429 is waited out after its
 * Retry-After, at most 3 times and never longer than 60 s a wait, with a message on
 * stderr; past that the error says what the server said. Before: the first 429 failed the
 * enrolment, so a roll-out through one office address broke at the server's rate.
 * A fake server on 127.0.0.1 answers /api/register with 429 (Retry-After: 1) a chosen
 * number of times.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from '../support/cli.ts';

let server: Server;
let url = '';
let refusals = 0;
let retryAfter = '1';
let registerCalls = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const send = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(value));
      };
      if (request.url === '/api/register') {
        registerCalls += 1;
        if (refusals > 0) {
          refusals -= 1;
          return send(429, { success: false, error: { code: 'rate_limited', message: 'too many enrolments from this address; retry in 1 s' } }, { 'retry-after': retryAfter });
        }
        return send(200, { machine_id: '6f0c2a1e-0000-4000-8000-0000000000aa', node_key: `ztna_node_0123456789abcdef_${'C'.repeat(43)}`, hostname: 'box-2', status: 'online', heartbeat_interval_s: 30, posture_interval_s: 300, quarantine_poll_s: 60 });
      }
      if (request.url === '/api/posture-report') return send(200, { compliant: true, violations: [], quarantined: false, mode: 'monitor', status: 'online' });
      return send(404, { success: false, error: { code: 'not_found', message: 'no' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const up = () => cliRunner({ ZTNA_CONFIG_DIR: join(mkdtempSync(join(tmpdir(), 'ztna-up-')), 'agent'), NO_COLOR: '1' })('up', '--server', url, '--auth-key', 'k', '--hostname', 'box', '--json');

describe.runIf(process.platform !== 'win32')('ztna up waits out a 429', () => {
  it('two 429s, then enrolled: it says so on stderr and takes the name the server gave', async () => {
    refusals = 2;
    retryAfter = '1';
    registerCalls = 0;
    const result = await up();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(registerCalls).toBe(3);
    expect(result.stderr.match(/limiting enrolments from this address \(429\); retrying in 1 s/g)).toHaveLength(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ machine_id: '6f0c2a1e-0000-4000-8000-0000000000aa', hostname: 'box-2' });
  });

  it('gives up after 3 retries with the server\'s message', async () => {
    refusals = 10;
    registerCalls = 0;
    const result = await up();
    expect(result.exitCode).toBe(2);
    expect(registerCalls).toBe(4);
    expect(result.stderr).toMatch(/refused the enrollment: too many enrolments/);
  });

  it('does not wait when the server asks for longer than a minute', async () => {
    refusals = 1;
    retryAfter = '3600';
    registerCalls = 0;
    const result = await up();
    expect(result.exitCode).toBe(2);
    expect(registerCalls).toBe(1);
    refusals = 0;
  });
});
