/**
 * The daemon's local API: HTTP over a Unix socket in the config directory (mode 0600, in
 * a 0700 directory: only the owner can talk to it) or a named pipe on Windows. The CLI
 * asks the running daemon here instead of doing the work twice, the way `tailscale`
 * talks to `tailscaled`; when nothing listens, the CLI does the work itself.
 *
 *   GET  /v1/status    the daemon's state machine and last verdict
 *   GET  /v1/peers     {quarantined, peers} as of the last heartbeat
 *   GET  /v1/commands  pending remediation commands the server announced
 *   POST /v1/posture   collect and report now; {report, compliant, violations, findings, quarantined, mode, status, posture_state?}
 *   POST /v1/down      disconnect (`ztna down`): the daemon stops talking to the server
 */
import type { AnswerSchema } from './control-client.ts';
import { createHash } from 'node:crypto';
import { chmod, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { AgentDriver } from './driver.ts';
import type { Enrollment } from './enrollment.ts';

export function localSocketPath(configDirectory: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') {
    return `\\\\.\\pipe\\ztna-${createHash('sha256').update(configDirectory.toLowerCase()).digest('hex').slice(0, 16)}`;
  }
  return join(configDirectory, 'ztna.sock');
}

export async function serveLocalApi(socketPath: string, driver: AgentDriver, enrollment: Enrollment): Promise<{ close(): Promise<void> }> {
  if (process.platform !== 'win32') await rm(socketPath, { force: true }); // a stale socket from a crash
  const server: Server = createServer((request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const route = `${request.method} ${request.url}`;
    void (async () => {
      switch (route) {
        case 'GET /v1/status':
          return send(200, { enrollment: { server_url: enrollment.server_url, machine_id: enrollment.machine_id, hostname: enrollment.hostname }, machine: driver.state, pid: process.pid });
        case 'GET /v1/peers':
          return send(200, { quarantined: driver.state.state === 'QUARANTINE', peers: driver.peers });
        case 'GET /v1/commands':
          return send(200, { commands: driver.commands });
        case 'POST /v1/posture': {
          const { report, response: verdict } = await driver.reportNow();
          return send(200, {
            report,
            compliant: verdict.compliant,
            violations: verdict.violations,
            findings: verdict.findings,
            quarantined: verdict.quarantined,
            mode: verdict.mode,
            status: verdict.status,
            ...(verdict.posture_state === undefined ? {} : { posture_state: verdict.posture_state }),
          });
        }
        case 'POST /v1/down':
          driver.dispatch({ type: 'DISCONNECT' });
          return send(200, { state: driver.state.state });
        default:
          return send(404, { error: `no route ${route}` });
      }
    })().catch((error: unknown) => send(502, { error: error instanceof Error ? error.message : String(error) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  if (process.platform !== 'win32') await chmod(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Asks the daemon; resolves null when no daemon listens (the caller then does the work). */
export async function askDaemon<T>(socketPath: string, method: 'GET' | 'POST', path: string, schema: AnswerSchema<T>, timeoutMs = 60_000): Promise<T | null> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          const body = JSON.parse(text) as unknown;
          if ((response.statusCode ?? 500) >= 400) {
            const error = (body as { error?: unknown } | null)?.error;
            reject(new Error(`the ztna daemon answered: ${typeof error === 'string' ? error : String(response.statusCode)}`));
            return;
          }
          const read = schema.safeParse(body);
          // A daemon of another version answering in another shape: said, not trusted.
          if (read.success) resolve(read.data);
          else reject(new Error(`the ztna daemon answered ${path} in a shape this ztna does not understand (${read.error.issues[0]?.path.map(String).join('.') || 'top level'}: ${read.error.issues[0]?.message ?? 'invalid'}); restart the service after an upgrade`));
        } catch {
          reject(new Error('the ztna daemon sent an unreadable answer'));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('the ztna daemon did not answer in time')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(null);
      else reject(error);
    });
    req.end();
  });
}
