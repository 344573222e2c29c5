/**
 * The agent's client for the server's agent routes (SPEC section 4), with keep-alive and
 * a timeout on every request. It distinguishes a server that could not
 * be reached or failed (retry later) from one that refused the request (4xx: do not
 * retry the same thing), and never puts the node key in an error message.
 */
import { ZtnaError } from '../shared/errors.ts';

export class ServerUnreachable extends ZtnaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('runtime', message, options);
    this.name = 'ServerUnreachable';
  }
}

export class ServerRejected extends ZtnaError {
  readonly status: number;
  readonly serverCode: string;
  constructor(status: number, serverCode: string, message: string) {
    super('runtime', message);
    this.name = 'ServerRejected';
    this.status = status;
    this.serverCode = serverCode;
  }
}

const TIMEOUT_MS = 10_000;
const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\])$/i;

/**
 * Accepts https anywhere and plain http only on loopback: a node key must not cross a
 * network in clear text.
 */
export function validateServerUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new ZtnaError('usage', `--server: "${input}" is not a URL (expected e.g. https://ztna.example.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ZtnaError('usage', `--server: use an https:// URL, not ${url.protocol}`);
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)) {
    throw new ZtnaError('usage', `--server: plain http is only allowed to this machine (localhost); use https://${url.host}${url.pathname === '/' ? '' : url.pathname}`);
  }
  if (url.username || url.password) throw new ZtnaError('usage', '--server: credentials do not belong in the URL');
  return url.origin + url.pathname.replace(/\/$/, '');
}

export interface ControlClient {
  post<T>(path: string, body: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/** Answers larger than this are refused (a 100k-machine peer list is ~8 MB). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * node:http / node:https with keep-alive agents and a per-request timeout. (undici was
 * the first choice; it measured +20 MB of resident memory in the daemon, a third of the
 * daemon's 60 MB budget, for one JSON POST.)
 */
export async function createControlClient(serverUrl: string): Promise<ControlClient> {
  const secure = serverUrl.startsWith('https:');
  const transport = secure ? await import('node:https') : await import('node:http');
  const agent = new transport.Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 4 });
  const post = <T>(path: string, body: Record<string, unknown>) =>
    new Promise<T>((resolve, reject) => {
      const payload = JSON.stringify(body);
      const request = transport.request(
        `${serverUrl}${path}`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'user-agent': 'ztna-agent' } },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) request.destroy(new Error('response too large'));
            else chunks.push(chunk);
          });
          response.on('error', (error) => reject(new ServerUnreachable(`${serverUrl}${path}: ${error.message}`, { cause: error })));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            let parsed: unknown = null;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              // handled below
            }
            if (status >= 500 || parsed === null) {
              reject(new ServerUnreachable(`${serverUrl}${path} answered ${status}${parsed === null ? ' without JSON' : ''}`));
              return;
            }
            if (status >= 400) {
              const error = (parsed as { error?: { code?: string; message?: string } }).error;
              reject(new ServerRejected(status, error?.code ?? 'error', `${serverUrl} refused ${path}: ${error?.message ?? status}`));
              return;
            }
            resolve(parsed as T);
          });
        },
      );
      request.setTimeout(TIMEOUT_MS, () => request.destroy(Object.assign(new Error(`no answer within ${TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })));
      request.on('error', (error: NodeJS.ErrnoException) => reject(new ServerUnreachable(`cannot reach ${serverUrl} (${error.code ?? error.message})`, { cause: error })));
      request.end(payload);
    });
  return {
    post,
    async close() {
      agent.destroy();
    },
  };
}
