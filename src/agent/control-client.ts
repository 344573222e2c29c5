/**
 * The agent's client for the server's agent routes (SPEC section 4), with keep-alive and
 * a timeout on every request. It distinguishes a server that could not
 * be reached or failed (retry later) from one that refused the request (4xx: do not
 * retry the same thing), and never puts the node key in an error message.
 *
 * Text crosses this boundary cleaned, both ways (SPEC 7.1, src/shared/text.ts): what the
 * agent sends has its line breaks and other control/format characters replaced (the server
 * refuses them; evidence quotes multi-line tool output), and every string a server answers
 * with — error messages included — has them escaped visibly, so nothing a hostile or broken
 * server says can rewrite the terminal of a person running `ztna`.
 *
 * TLS: certificates are always verified against Node's CA store (the bundled Mozilla
 * roots plus the PEM file named by NODE_EXTRA_CA_CERTS, read at process start — how a
 * private CA is trusted); nothing here turns verification off. A certificate that does
 * not verify is a `ServerUntrusted` error saying why and what to do.
 */
import { ZtnaError } from '../shared/errors.ts';
import { cleanReportTextDeep, escapeUnsafe, escapeUnsafeDeep } from '../shared/text.ts';

export class ServerUnreachable extends ZtnaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('runtime', message, options);
    this.name = 'ServerUnreachable';
  }
}

export class ServerRejected extends ZtnaError {
  readonly status: number;
  readonly serverCode: string;
  /** Seconds the server asked the client to wait (`Retry-After` of a 429), if it said. */
  readonly retryAfterS: number | null;
  constructor(status: number, serverCode: string, message: string, retryAfterS: number | null = null) {
    super('runtime', escapeUnsafe(message));
    this.name = 'ServerRejected';
    this.status = status;
    this.serverCode = serverCode;
    this.retryAfterS = retryAfterS;
  }
}

/** `Retry-After` in whole seconds (the delay form; an HTTP date is not used by ztna-server). */
function retryAfterSeconds(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d{1,9}$/.test(value.trim()) ? Number(value.trim()) : null;
}

/** The server's certificate did not verify (retried like an unreachable server: it may be fixed). */
export class ServerUntrusted extends ServerUnreachable {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServerUntrusted';
  }
}

/** OpenSSL / Node codes of certificate verification failures. */
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function connectionError(serverUrl: string, error: NodeJS.ErrnoException): ServerUnreachable {
  const code = error.code ?? '';
  if (CERTIFICATE_ERRORS.has(code)) {
    const hint =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? 'the server needs a certificate valid for this name and date'
        : 'if the server uses a private CA, set NODE_EXTRA_CA_CERTS to that CA\'s certificate (a PEM file) for ztna';
    return new ServerUntrusted(`refusing ${serverUrl}: its TLS certificate does not verify (${code}: ${error.message}); ${hint}`, { cause: error });
  }
  return new ServerUnreachable(`cannot reach ${serverUrl} (${error.code ?? error.message})`, { cause: error });
}

const TIMEOUT_MS = 10_000;
const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\])$/i;

/** Whether `serverUrl` sends node keys in clear text over a network (http to a non-loopback host). */
export function isInsecureRemote(serverUrl: string): boolean {
  const url = URL.parse(serverUrl);
  return url !== null && url.protocol === 'http:' && !LOOPBACK.test(url.hostname);
}

/**
 * Accepts https anywhere and plain http only on loopback: a node key must not cross a
 * network in clear text — unless the person enrolling explicitly allows it
 * (`ztna up --allow-insecure-http`, for a lab network).
 */
export function validateServerUrl(input: string, options: { allowInsecureHttp?: boolean } = {}): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new ZtnaError('usage', `--server: "${input}" is not a URL (expected e.g. https://ztna.example.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ZtnaError('usage', `--server: use an https:// URL, not ${url.protocol}`);
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname) && options.allowInsecureHttp !== true) {
    throw new ZtnaError(
      'usage',
      `--server: plain http is only allowed to this machine (localhost): the node key would cross the network unencrypted. Use https://${url.host}${url.pathname === '/' ? '' : url.pathname}, or add --allow-insecure-http if you accept that (a lab network)`,
    );
  }
  if (url.username || url.password) throw new ZtnaError('usage', '--server: credentials do not belong in the URL');
  return url.origin + url.pathname.replace(/\/$/, '');
}

/** How an answer is read: one of the response schemas of src/shared/wire.ts. */
export interface AnswerSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

export interface ControlClient {
  /** POSTs `body` and parses the answer with `schema` (an answer of another shape is an error naming the field). */
  post<T>(path: string, body: Record<string, unknown>, schema: AnswerSchema<T>): Promise<T>;
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
  const post = <T>(path: string, body: Record<string, unknown>, schema: AnswerSchema<T>) =>
    new Promise<T>((resolve, reject) => {
      const payload = JSON.stringify(cleanReportTextDeep(body));
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
            const answer = escapeUnsafeDeep(parsed);
            if (status >= 400) {
              const error = (answer as { error?: { code?: unknown; message?: unknown } }).error;
              const code = typeof error?.code === 'string' ? error.code : 'error';
              const message = typeof error?.message === 'string' ? error.message : String(status);
              reject(new ServerRejected(status, code, `${serverUrl} refused ${path}: ${message}`, retryAfterSeconds(response.headers['retry-after'])));
              return;
            }
            const read = schema.safeParse(answer);
            if (!read.success) {
              const issue = read.error.issues[0];
              // A server that answers in another shape is broken for this agent: handled like
              // one that does not answer (the daemon retries with backoff; the CLI says so).
              reject(new ServerUnreachable(`${serverUrl}${path} answered in a shape this agent does not understand: ${issue ? `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}` : 'invalid'}`));
              return;
            }
            resolve(read.data);
          });
        },
      );
      // A deadline on the whole exchange, not only on socket inactivity (request.setTimeout):
      // a server or middlebox that trickles its answer a byte at a time would otherwise hold
      // the request open indefinitely — and with it the daemon's one heartbeat in flight.
      const deadline = setTimeout(() => request.destroy(Object.assign(new Error(`no complete answer within ${TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })), TIMEOUT_MS);
      request.on('close', () => clearTimeout(deadline));
      request.on('error', (error: NodeJS.ErrnoException) => reject(connectionError(serverUrl, error)));
      request.end(payload);
    });
  return {
    post,
    async close() {
      agent.destroy();
    },
  };
}
