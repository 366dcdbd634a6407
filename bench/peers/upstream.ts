// The upstream every subject of bench/gateway.ts reaches: a bare node:http server that
// answers any request with the same small JSON body. Prints {"url": …} once listening.
// Usage: node --import tsx bench/peers/upstream.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = Buffer.from('{"id":42,"name":"widget","price":9.99,"tags":["bench","upstream"]}');

const server = createServer((req, res) => {
  // Drain a request body, if any, before answering so the connection stays reusable.
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
  res.end(BODY);
});
// Keep idle keep-alive connections across the pauses between rounds, as long as a round lasts.
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
