// @fastify/http-proxy as a peer of the Gatehouse gateway in bench/gateway.ts: one process,
// every path proxied to the upstream given as the first argument, no logging, the
// plugin's defaults otherwise (undici with keep-alive). Prints {"url": …} once listening.
// Plain JavaScript run by node, so the root typecheck never needs bench/node_modules.
// Usage: node bench/peers/fastify-proxy.mjs http://127.0.0.1:PORT
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const upstream = process.argv[2];
if (!upstream) {
  process.stderr.write('usage: fastify-proxy.mjs UPSTREAM_URL\n');
  process.exit(2);
}
const app = Fastify({ logger: false });
await app.register(proxy, { upstream, prefix: '/' });
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url: address })}\n`);
process.once('SIGTERM', () => void app.close());
