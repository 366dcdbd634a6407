import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker, countsAsFailure, type CircuitState } from './breaker.ts';

function breaker(settings = { consecutiveFailures: 3, openDurationMs: 1000, halfOpenRequests: 2 }) {
  const clock = { now: 0 };
  const changes: CircuitState[] = [];
  return {
    b: new CircuitBreaker(
      settings,
      (s) => changes.push(s),
      () => clock.now,
    ),
    clock,
    changes,
  };
}

test('opens after consecutive failures only; a success resets the count', () => {
  const { b, changes } = breaker();
  b.failed(b.acquire());
  b.failed(b.acquire());
  b.succeeded(b.acquire());
  b.failed(b.acquire());
  b.failed(b.acquire());
  assert.equal(b.state, 'closed');
  b.failed(b.acquire());
  assert.equal(b.state, 'open');
  assert.equal(b.available(), false);
  assert.deepEqual(changes, ['open']);
});

test('after openDuration lets halfOpenRequests trials through; all succeeding closes it', () => {
  const { b, clock, changes } = breaker();
  for (let i = 0; i < 3; i++) b.failed(b.acquire());
  clock.now = 999;
  assert.equal(b.available(), false);
  clock.now = 1000;
  assert.equal(b.available(), true);
  assert.equal(b.state, 'half-open');
  const t1 = b.acquire();
  assert.equal(b.available(), true);
  const t2 = b.acquire();
  assert.equal(b.available(), false, 'no more trials than halfOpenRequests');
  b.succeeded(t1);
  assert.equal(b.state, 'half-open');
  b.succeeded(t2);
  assert.equal(b.state, 'closed');
  assert.deepEqual(changes, ['open', 'half-open', 'closed']);
});

test('a failed trial reopens for another openDuration; a released trial frees its slot', () => {
  const { b, clock } = breaker({ consecutiveFailures: 1, openDurationMs: 500, halfOpenRequests: 1 });
  b.failed(b.acquire());
  clock.now = 500;
  assert.equal(b.available(), true);
  b.released(b.acquire());
  assert.equal(b.available(), true, 'an abandoned trial gives its slot back');
  b.failed(b.acquire());
  assert.equal(b.state, 'open');
  clock.now = 999;
  assert.equal(b.available(), false);
  clock.now = 1000;
  assert.equal(b.available(), true);
});

test('outcomes of requests sent before the last state change are ignored', () => {
  const { b, clock } = breaker({ consecutiveFailures: 1, openDurationMs: 100, halfOpenRequests: 1 });
  const early = b.acquire();
  b.failed(b.acquire());
  clock.now = 100;
  assert.equal(b.available(), true);
  const trial = b.acquire();
  b.succeeded(early);
  assert.equal(b.state, 'half-open', 'a slow request from the closed period does not decide the trial');
  b.failed(trial);
  assert.equal(b.state, 'open');
});

test('settings change without losing state', () => {
  const { b } = breaker({ consecutiveFailures: 3, openDurationMs: 100, halfOpenRequests: 1 });
  b.failed(b.acquire());
  b.failed(b.acquire());
  b.configure({ consecutiveFailures: 3, openDurationMs: 5000, halfOpenRequests: 1 });
  b.failed(b.acquire());
  assert.equal(b.state, 'open');
});

test('502, 503 and 504 are failures of the target; other statuses are answers', () => {
  assert.deepEqual([500, 501, 502, 503, 504, 404, 200].map(countsAsFailure), [
    false,
    false,
    true,
    true,
    true,
    false,
    false,
  ]);
});
