/**
 * The agent's client for the server's agent routes (SPEC section 4), over undici with
 * connect/header/body timeouts and keep-alive. It distinguishes a server that could not
 * be reached or failed (retry later) from one that refused the request (4xx: do not
 * retry the same thing), and never puts the node key in an error message.
 */
import type * as Undici from 'undici';
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

export async function createControlClient(serverUrl: string): Promise<ControlClient> {
  // undici is CommonJS: through a bundle's dynamic import its exports sit on `default`.
  const undici = (await import('undici')) as typeof Undici & { default?: typeof Undici };
  const { Agent, request } = undici.default ?? undici;
  const dispatcher = new Agent({ connectTimeout: TIMEOUT_MS, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS, keepAliveTimeout: 60_000 });
  return {
    async post<T>(path: string, body: Record<string, unknown>): Promise<T> {
      let response;
      try {
        response = await request(`${serverUrl}${path}`, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json', 'user-agent': 'ztna-agent' },
          body: JSON.stringify(body),
        });
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).name;
        throw new ServerUnreachable(`cannot reach ${serverUrl} (${code})`, { cause: error });
      }
      const text = await response.body.text().catch(() => '');
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        // handled below
      }
      if (response.statusCode >= 500 || parsed === null) {
        throw new ServerUnreachable(`${serverUrl}${path} answered ${response.statusCode}${parsed === null ? ' without JSON' : ''}`);
      }
      if (response.statusCode >= 400) {
        const error = (parsed as { error?: { code?: string; message?: string } }).error;
        throw new ServerRejected(response.statusCode, error?.code ?? 'error', `${serverUrl} refused ${path}: ${error?.message ?? response.statusCode}`);
      }
      return parsed as T;
    },
    close: () => dispatcher.close(),
  };
}
