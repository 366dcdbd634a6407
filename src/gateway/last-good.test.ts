import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import { apiDefinition } from '../../test/support/gateway.ts';
import type { ApiDefinition } from '../api/kinds/api-definition/index.ts';
import { emptyInputs, type GatewayInputs } from './config.ts';
import { LastGoodSaver, loadLastGood, saveLastGood, savedJsonPieces } from './last-good.ts';

test('overlapping saves (workers saving at once) each replace the whole file, and reads never see a part', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-last-good-'));
  try {
    // Sizes differ, so a file written over by two writers at once would not parse.
    const inputs = Array.from(
      { length: 20 },
      (_, i): GatewayInputs => ({
        ...emptyInputs(),
        apis: Array.from(
          { length: i + 1 },
          (_, j) =>
            apiDefinition(`api-${i}-${j}`, {
              listenPath: `/${i}/${j}`,
              upstream: { targets: [{ url: 'http://127.0.0.1:1' }] },
            }) as ApiDefinition,
        ),
      }),
    );
    await saveLastGood(dir, inputs[0]);
    let reads = 0;
    let saving = true;
    const reader = (async () => {
      while (saving) {
        const saved = await loadLastGood(dir);
        assert.ok(saved && inputs.some((i) => i.apis.length === saved.inputs.apis.length));
        reads++;
      }
    })();
    await Promise.all(inputs.map((i) => saveLastGood(dir, i)));
    saving = false;
    await reader;
    assert.ok(reads > 0);
    const saved = await loadLastGood(dir);
    assert.ok(inputs.some((i) => JSON.stringify(i) === JSON.stringify(saved?.inputs)));
    assert.deepEqual(await readdir(dir), ['gateway-last-good.json'], 'no temp file is left behind');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a burst of saves: the first at once, the newest after the interval; flush writes what is pending', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-last-good-'));
  // Virtual time: the interval is crossed by ticks, not waited for. A write that started is
  // awaited by reading the file until it shows (its steps are file operations, not timers).
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  const errors: object[] = [];
  const saver = new LastGoodSaver(dir, { error: (fields) => errors.push(fields) }, 200);
  const inputsOf = (n: number): GatewayInputs => ({
    ...emptyInputs(),
    apis: Array.from(
      { length: n },
      (_, j) =>
        apiDefinition(`api-${j}`, {
          listenPath: `/${j}`,
          upstream: { targets: [{ url: 'http://127.0.0.1:1' }] },
        }) as ApiDefinition,
    ),
  });
  const savedCount = async () => (await loadLastGood(dir))?.inputs.apis.length;
  const written = async (count: number, message: string) => {
    for (let i = 0; i < 1000 && (await savedCount()) !== count; i++) await new Promise((r) => setImmediate(r));
    assert.equal(await savedCount(), count, message);
  };
  try {
    saver.save(inputsOf(1));
    mock.timers.tick(0);
    await written(1, 'the first save is not delayed');
    for (let n = 2; n <= 5; n++) saver.save(inputsOf(n));
    mock.timers.tick(199);
    assert.equal(await savedCount(), 1, 'the burst waits for the interval');
    mock.timers.tick(1);
    await written(5, 'then only the newest is written');
    saver.save(inputsOf(7));
    await saver.flush();
    assert.equal(await savedCount(), 7, 'flush writes the pending save');
    assert.deepEqual(errors, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const savedJson = (saved: Parameters<typeof savedJsonPieces>[0]) => [...savedJsonPieces(saved)].join('');

test('the saved JSON is what JSON.stringify makes, in pieces, also after objects are replaced', () => {
  const api = (name: string, path: string) =>
    apiDefinition(name, { listenPath: path, upstream: { targets: [{ url: 'http://127.0.0.1:1' }] } }) as ApiDefinition;
  const first: GatewayInputs = { ...emptyInputs(), apis: [api('a', '/a'), api('b', '/b')] };
  assert.equal(savedJson({ savedAt: 'then', inputs: first }), JSON.stringify({ savedAt: 'then', inputs: first }));
  const second: GatewayInputs = { ...first, apis: [first.apis[0], api('b', '/b2')] };
  const json = savedJson({ savedAt: 'now', inputs: second });
  assert.equal(json, JSON.stringify({ savedAt: 'now', inputs: second }));
  assert.equal((JSON.parse(json) as { inputs: GatewayInputs }).inputs.apis[1].spec.listenPath, '/b2');
  // More objects than one piece holds, and an empty list after them.
  const many: GatewayInputs = { ...emptyInputs(), apis: Array.from({ length: 600 }, (_, i) => api(`m${i}`, `/m${i}`)) };
  assert.ok([...savedJsonPieces({ savedAt: 'x', inputs: many })].length > 2);
  assert.equal(savedJson({ savedAt: 'x', inputs: many }), JSON.stringify({ savedAt: 'x', inputs: many }));
});
