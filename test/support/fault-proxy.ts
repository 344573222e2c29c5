/**
 * A fault-injecting HTTP proxy for reliability tests: listens on 127.0.0.1 (port 0) and
 * forwards every request to the upstream server, or misbehaves the way a failing server
 * or network does, switchable at any time:
 *
 *   pass    forward and answer faithfully (an unreachable upstream: the client's
 *           connection is reset, as if it had dialled the dead server itself)
 *   error   answer 500 at once, without forwarding
 *   slow    forward, send the status line and headers at once, then trickle the body one
 *           byte per second — an answer that takes far longer than any client timeout; when
 *           the mode changes, the rest of every trickling body is sent at once
 *   drop    forward, then cut the connection mid-response: alternately right after the
 *           headers and after half of the body
 *
 * Every request is recorded (arrival time, path, the mode it met, what became of it), so a
 * test can count what reached the "server" during a fault and when the first complete
 * answer got through afterwards.
 */
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultMode = 'pass' | 'error' | 'slow' | 'drop';

export interface ProxiedRequest {
  /** Date.now() when the request arrived. */
  readonly at: number;
  readonly path: string;
  readonly mode: FaultMode;
  /** delivered = a complete answer written; cut = the proxy broke it; gone = the client left first. */
  outcome: 'pending' | 'delivered' | 'cut' | 'gone' | 'upstream_down';
  status?: number;
  /** Date.now() when the outcome was decided. */
  doneAt?: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly requests: readonly ProxiedRequest[];
  mode: FaultMode;
  /** Resolves with the first recorded request matching `predicate` (polling, bounded). */
  waitFor(what: string, predicate: (request: ProxiedRequest) => boolean, timeoutMs?: number): Promise<ProxiedRequest>;
  close(): Promise<void>;
}

interface Upstream {
  status: number;
  contentType: string;
  body: Buffer;
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** `upstream()` is read per request, so the real server may come back on another port. */
export async function startFaultProxy(upstream: () => string): Promise<FaultProxy> {
  const requests: ProxiedRequest[] = [];
  /** Bodies being trickled (slow mode): flushed when the mode changes, stopped on close. */
  const tricklers = new Set<{ flush(): void; stop(): void }>();
  let modeNow: FaultMode = 'pass';
  let drops = 0;

  const forward = (incoming: IncomingMessage, body: Buffer) =>
    new Promise<Upstream>((resolve, reject) => {
      const outgoing = httpRequest(
        `${upstream()}${incoming.url ?? '/'}`,
        { method: incoming.method, headers: { 'content-type': incoming.headers['content-type'] ?? 'application/json', 'content-length': body.length }, agent: false },
        (response) => {
          readBody(response).then((answer) => resolve({ status: response.statusCode ?? 502, contentType: String(response.headers['content-type'] ?? 'application/json'), body: answer }), reject);
        },
      );
      outgoing.setTimeout(30_000, () => outgoing.destroy(new Error('upstream timeout')));
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const finish = (record: ProxiedRequest, outcome: ProxiedRequest['outcome']) => {
    if (record.outcome !== 'pending') return;
    record.outcome = outcome;
    record.doneAt = Date.now();
  };

  const handle = async (incoming: IncomingMessage, response: ServerResponse, record: ProxiedRequest) => {
    response.on('close', () => finish(record, response.writableFinished ? 'delivered' : 'gone'));
    const body = await readBody(incoming);
    if (record.mode === 'error') {
      record.status = 500;
      const text = JSON.stringify({ success: false, error: { code: 'internal', message: 'internal server error (injected)' } });
      response.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      response.end(text);
      return;
    }
    let answer: Upstream;
    try {
      answer = await forward(incoming, body);
    } catch {
      // The server is down: reset the client's connection, as the dead server would.
      finish(record, 'upstream_down');
      response.socket?.destroy();
      return;
    }
    record.status = answer.status;
    const headers = { 'content-type': answer.contentType, 'content-length': answer.body.length };
    if (record.mode === 'drop') {
      finish(record, 'cut');
      response.writeHead(answer.status, headers);
      if (drops++ % 2 === 0) {
        response.flushHeaders();
        setTimeout(() => response.socket?.destroy(), 20);
      } else {
        response.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)), () => response.socket?.destroy());
      }
      return;
    }
    if (record.mode === 'slow') {
      response.writeHead(answer.status, headers);
      response.flushHeaders();
      let sent = 0;
      const trickler = {
        stop() {
          clearInterval(timer);
          tricklers.delete(trickler);
        },
        flush() {
          trickler.stop();
          if (!response.destroyed) response.end(answer.body.subarray(sent));
        },
      };
      // One byte a second, never the last one while the mode stays slow.
      const timer = setInterval(() => {
        if (response.destroyed) trickler.stop();
        else if (sent < answer.body.length - 1) response.write(answer.body.subarray(sent, ++sent));
      }, 1_000);
      tricklers.add(trickler);
      response.on('close', () => trickler.stop());
      // The mode may have changed while the request was being forwarded.
      if (modeNow !== 'slow') trickler.flush();
      return;
    }
    response.writeHead(answer.status, headers);
    response.end(answer.body);
  };

  const server = createServer((incoming, response) => {
    const record: ProxiedRequest = { at: Date.now(), path: (incoming.url ?? '/').split('?')[0] as string, mode: modeNow, outcome: 'pending' };
    requests.push(record);
    handle(incoming, response, record).catch(() => {
      finish(record, 'cut');
      response.socket?.destroy();
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get mode() {
      return modeNow;
    },
    set mode(next: FaultMode) {
      modeNow = next;
      // Slowness ends: what was trickling is answered in full at once.
      if (next !== 'slow') for (const trickler of [...tricklers]) trickler.flush();
    },
    async waitFor(what, predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = requests.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`fault proxy: timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const trickler of [...tricklers]) trickler.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
