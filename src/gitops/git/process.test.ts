import { test } from 'node:test';
import assert from 'node:assert/strict';
import { programEnv, run } from './process.ts';

const env = programEnv();

test('collects stdout, stderr and the exit code; feeds input', async () => {
  const result = await run('sh', ['-c', 'cat; echo oops >&2; exit 3'], {
    env,
    signal: new AbortController().signal,
    input: 'hello\n',
  });
  assert.deepEqual(result, { exitCode: 3, stdout: 'hello\n', stderr: 'oops\n', aborted: false });
});

// Were only the shell killed, the background sleep would hold stdout open and `run` would
// not resolve before the test's own timeout.
test('aborting kills the whole process group', { timeout: 20_000 }, async () => {
  const controller = new AbortController();
  const pending = run('sh', ['-c', 'sleep 60 & echo started; wait'], {
    env,
    signal: controller.signal,
    consume: async (stdout) => {
      for await (const chunk of stdout) if (String(chunk).includes('started')) controller.abort();
    },
  });
  const result = await pending;
  assert.equal(result.aborted, true);
  assert.equal(result.exitCode, null);
});

test('an already aborted signal starts nothing', async () => {
  const result = await run('sh', ['-c', 'exit 0'], { env, signal: AbortSignal.abort() });
  assert.equal(result.aborted, true);
});

test('a missing program rejects with ENOENT', async () => {
  await assert.rejects(run('gatehouse-no-such-program', [], { env, signal: new AbortController().signal }), {
    code: 'ENOENT',
  });
});

test('a failing consumer kills the program and its error is rethrown', { timeout: 20_000 }, async () => {
  await assert.rejects(
    run('sh', ['-c', 'echo line; sleep 60'], {
      env,
      signal: new AbortController().signal,
      consume: async (stdout) => {
        for await (const _ of stdout) throw new Error('bad output');
      },
    }),
    { message: 'bad output' },
  );
});

test('programs get PATH and the C locale, nothing else of this environment', () => {
  process.env.GATEHOUSE_TEST_LEAK = 'x';
  try {
    const vars = programEnv({ HOME: '/h' });
    assert.deepEqual(Object.keys(vars).sort(), ['HOME', 'LANGUAGE', 'LC_ALL', 'PATH']);
    assert.equal(vars.LC_ALL, 'C');
  } finally {
    delete process.env.GATEHOUSE_TEST_LEAK;
  }
});
