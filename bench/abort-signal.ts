// Abort-on-disconnect benchmark: what it costs per request to let a client that goes away
// abort its upstream request (src/gateway/proxy.ts), for the two ways undici accepts a
// signal. "emitter": the response itself is the signal (undici listens for 'abort' on any
// EventEmitter) and one shared function emits it on an unfinished 'close'. "controller":
// an AbortController per request, aborted from a 'close' closure. Each variant registers
// and removes the listener as undici does for a request that completes.
// Usage: npx tsx bench/abort-signal.ts [--iterations 1000000 --rounds 5]
import { EventEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import { median } from './lib/stats.ts';
import { fixed, markdownTable } from './lib/table.ts';

const { values } = parseArgs({
  options: { iterations: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' } },
});
const ITERATIONS = Number(values.iterations);
const ROUNDS = Number(values.rounds);

function abortUnfinished(this: EventEmitter & { writableFinished?: boolean }): void {
  if (!this.writableFinished) this.emit('abort');
}

const variants: Record<string, () => void> = {
  none() {
    new EventEmitter();
  },
  emitter() {
    const res = new EventEmitter();
    res.on('close', abortUnfinished);
    const onAbort = () => undefined;
    res.once('abort', onAbort);
    res.removeListener('abort', onAbort);
  },
  controller() {
    const res = new EventEmitter();
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    const onAbort = () => undefined;
    controller.signal.addEventListener('abort', onAbort, { once: true });
    controller.signal.removeEventListener('abort', onAbort);
  },
};

/** Nanoseconds per request, median of ROUNDS timed loops. */
function time(run: () => void): number {
  const perRound: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) run();
    perRound.push(Number(process.hrtime.bigint() - t0) / ITERATIONS);
  }
  return median(perRound);
}

const rows = Object.entries(variants).map(([name, run]) => [name, fixed(time(run), 0)]);
process.stdout.write(
  `Abort wiring per request, ns (median of ${ROUNDS} × ${ITERATIONS.toLocaleString('en-US')}), node ${process.version}\n\n`,
);
process.stdout.write(`${markdownTable(['variant', 'ns per request'], rows)}\n`);
