import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ApiServerLink } from './api-server-link.ts';

interface Line {
  level: number;
  msg: string;
  err?: unknown;
  attempts?: number;
}

/** A link whose log lines the test reads; `watches` says whether every watch is connected. */
function link(summaryIntervalMs = 3_600_000) {
  const lines: Line[] = [];
  let waiter: { count: number; resolve(): void } | undefined;
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as Line);
        if (waiter && lines.length >= waiter.count) waiter.resolve();
      },
    },
  );
  const state = { watches: true };
  const l = new ApiServerLink({
    server: 'https://api:6443',
    logger,
    summaryIntervalMs,
    connected: () => state.watches,
    serving: () => 'the config it had',
  });
  /** Resolves once `count` lines were logged (the test runner's timeout bounds the wait). The
   * link's timer does not keep the process up: a timer of the test's does meanwhile. */
  const logged = (count: number) =>
    new Promise<void>((resolve) => {
      const alive = setInterval(() => undefined, 1000);
      waiter = {
        count,
        resolve() {
          clearInterval(alive);
          resolve();
        },
      };
      if (lines.length >= count) waiter.resolve();
    });
  return { l, lines, state, logged };
}

describe('ApiServerLink', () => {
  it('logs the first failure with its error and counts the others silently', () => {
    const { l, lines, state } = link();
    state.watches = false;
    l.failed(new Error('connect ECONNREFUSED'), 'watch of Secret');
    l.failed(new Error('connect ECONNREFUSED'), 'watch of ApiKey');
    l.failed(new Error('connect ECONNREFUSED'), 'status writer election');
    assert.equal(lines.length, 1);
    const cannot = 'cannot reach the API server at https://api:6443: serving the config it had until it answers';
    assert.equal(lines[0].msg, cannot);
    assert.ok(lines[0].err);
    const unreachable = 'the API server at https://api:6443 unreachable since \\S+, 3 failed attempts';
    assert.match(l.health(), new RegExp(`^ok\\nserving the config it had: ${unreachable}\\n$`));
    l.stop();
  });

  it('sums the outage up per interval, and logs its end once every watch is back', async () => {
    const { l, lines, state, logged } = link(10);
    l.reconnected();
    assert.match(l.health(), /^ok\nserving the live config from the API server at https:\/\/api:6443 since /);
    state.watches = false;
    l.failed(new Error('socket closed'), 'watch of ApiDefinition');
    assert.match(lines[0].msg, /^lost the API server at https:\/\/api:6443: /);
    l.failed(new Error('connect ECONNREFUSED'), 'watch of ApiDefinition');
    await logged(3);
    assert.deepEqual(
      lines.slice(1, 3).map((s) => [s.level, s.attempts]),
      [
        [40, 2],
        [40, 2],
      ],
    );
    const last = 'last: watch of ApiDefinition: connect ECONNREFUSED';
    const still = 'still cannot reach the API server at https://api:6443';
    const summary = `${still} \\(since \\S+, 2 failed attempts; ${last}\\)`;
    assert.match(lines[1].msg, new RegExp(`^${summary}: serving the config it had$`));
    l.reconnected();
    assert.equal(lines.length, 3, 'not back while a watch is not');
    state.watches = true;
    l.reconnected();
    l.reconnected();
    const back = lines.filter((line) => line.level === 30);
    assert.equal(back.length, 1);
    assert.match(back[0].msg, /^the API server at https:\/\/api:6443 answers again after 2 failed attempts over \d+ s/);
    assert.match(l.health(), /^ok\nserving the live config/);
    l.stop();
  });

  it('finds the link back at the next summary when only a request other than a watch failed', async () => {
    const { l, lines, logged } = link(10);
    l.reconnected();
    l.failed(new Error('socket hang up'), 'status writer election');
    await logged(2);
    assert.deepEqual(
      lines.map((line) => line.level),
      [40, 30],
    );
    assert.match(l.health(), /^ok\nserving the live config/);
    l.stop();
  });
});
