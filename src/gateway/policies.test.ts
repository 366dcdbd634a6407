import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestContext } from './auth/testing.ts';
import { runChain, type Step } from './policies.ts';

test('runs the chain synchronously while no step waits, and resumes after the one that does', async () => {
  const ran: string[] = [];
  const pass =
    (name: string): Step =>
    () =>
      void ran.push(name);
  const waiting: Step = () => Promise.resolve(void ran.push('waiting'));
  assert.equal(runChain([pass('a'), pass('b')], requestContext()), undefined, 'no promise when nothing waited');
  assert.deepEqual(ran.splice(0), ['a', 'b']);

  const pending = runChain([pass('a'), waiting, pass('c')], requestContext());
  assert.ok(pending instanceof Promise);
  assert.deepEqual(ran, ['a', 'waiting'], 'steps after the waiting one wait for it');
  assert.equal(await pending, undefined);
  assert.deepEqual(ran.splice(0), ['a', 'waiting', 'c']);
});

test('stops at the first step that answers, synchronously or not', async () => {
  const refusal = { code: 'ACCESS_FORBIDDEN' as const, message: 'no' };
  let after = 0;
  const later: Step = () => void after++;
  assert.equal(runChain([() => refusal, later], requestContext()), refusal);
  assert.equal(await runChain([() => Promise.resolve(refusal), later], requestContext()), refusal);
  assert.equal(
    await runChain([() => Promise.resolve(undefined), () => 'preflight', later], requestContext()),
    'preflight',
  );
  assert.equal(after, 0);
});
