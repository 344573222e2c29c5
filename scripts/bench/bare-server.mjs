// The baseline of scripts/bench-server: a bare node:http server doing the least a JSON API
// can do with the same request — collect the body, JSON.parse it, check one field, answer a
// small JSON object. No framework, no validation library, no database.
//
//   node scripts/bench/bare-server.mjs [port]     (prints "listening on http://127.0.0.1:PORT")
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const ok = Buffer.from('{"success":true,"status":"online"}');
const bad = Buffer.from('{"success":false,"error":{"code":"bad_request","message":"node_key required"}}');

const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = null;
    }
    const valid = body !== null && typeof body === 'object' && typeof body.node_key === 'string';
    const payload = valid ? ok : bad;
    response.writeHead(valid ? 200 : 400, { 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length });
    response.end(payload);
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
