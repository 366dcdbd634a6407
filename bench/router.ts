// Router benchmark: time of one Router.match (src/gateway/router.ts) as the catalogue grows
// from 10 to 1,000 to 10,000 APIs, in-process, for two shapes of catalogue: APIs that name
// no host (matched on the path alone) and APIs that each name a host (exact host first).
// The same route is hit at every size; the time should not grow with the size.
// Usage: npx tsx bench/router.ts [--sizes 10,1000,10000 --iterations 2000000 --rounds 5]
import { parseArgs } from 'node:util';
import { Router, type Route } from '../src/gateway/router.ts';
import { median } from './lib/stats.ts';
import { fixed, markdownTable } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,1000,10000' },
    iterations: { type: 'string', default: '2000000' },
    rounds: { type: 'string', default: '5' },
  },
});
const ITERATIONS = Number(values.iterations);
const ROUNDS = Number(values.rounds);
const SEGMENTS = ['keyless', 'items', '42'];

function routes(size: number, withHosts: boolean): Route<number>[] {
  const hosts = (i: number) => (withHosts ? [`api-${i}.example.com`] : []);
  const out: Route<number>[] = [{ hosts: hosts(0), listenPath: '/keyless', value: 0 }];
  for (let i = 1; i < size; i++) out.push({ hosts: hosts(i), listenPath: `/filler-${i}/v1`, value: i });
  return out;
}

/** Nanoseconds per match, median of ROUNDS timed loops. */
function time(router: Router<number>, host: string): number {
  const perRound: number[] = [];
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) sink += router.match(host, SEGMENTS)!.depth;
    perRound.push(Number(process.hrtime.bigint() - t0) / ITERATIONS);
  }
  if (sink !== ROUNDS * ITERATIONS) throw new Error('the route was not matched every time');
  return median(perRound);
}

const rows: string[][] = [];
for (const size of values.sizes.split(',').map(Number)) {
  const anyHost = time(new Router(routes(size, false)), '127.0.0.1:8080');
  const named = time(new Router(routes(size, true)), 'api-0.example.com:8080');
  rows.push([size.toLocaleString('en-US'), fixed(anyHost, 0), fixed(named, 0)]);
}
process.stdout.write(
  `Router.match, ns per call (median of ${ROUNDS} × ${ITERATIONS.toLocaleString('en-US')}), node ${process.version}\n\n`,
);
process.stdout.write(`${markdownTable(['APIs', 'no hosts (path only)', 'one host per API'], rows)}\n`);
