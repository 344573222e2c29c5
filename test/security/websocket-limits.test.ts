/**
 * The realtime WebSocket takes nothing from clients but stays bounded when sent things:
 * a message over 4 KiB ends the connection (1009, message too big) without buffering it,
 * small messages are ignored, and the server keeps serving other subscribers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../server/harness.ts';
import type { TestServer } from '../server/harness.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('realtime socket limits', () => {
  it('a 1 MiB message closes that socket with 1009; other subscribers and the API carry on', async () => {
    server = await startTestServer();
    const org = await server.org('ws-limits');
    const bystander = await server.subscribe(org.token);
    const attacker = await server.subscribe(org.token, 'query');
    const closed = new Promise<number>((resolve) => attacker.socket.once('close', (code) => resolve(code)));
    attacker.socket.send('x'.repeat(100)); // small messages are ignored
    attacker.socket.send(Buffer.alloc(1024 * 1024, 0x61));
    expect(await closed).toBe(1009);
    await org.register('after-flood');
    await bystander.waitFor((event) => event.table === 'machines' && event.data?.hostname === 'after-flood');
    expect((await server.request('GET', '/healthz')).status).toBe(200);
  });
});
