import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiDefinition } from '../../test/support/gateway.ts';
import type { ApiDefinition } from '../api/kinds/api-definition/index.ts';
import { emptyInputs, type GatewayInputs } from './config.ts';
import { loadLastGood, saveLastGood } from './last-good.ts';

test('overlapping saves (workers saving at once) each replace the whole file, and reads never see a part', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-last-good-'));
  try {
    // Sizes differ, so a file written over by two writers at once would not parse.
    const inputs = Array.from({ length: 20 }, (_, i): GatewayInputs => ({
      ...emptyInputs(),
      apis: Array.from({ length: i + 1 }, (_, j) => apiDefinition(`api-${i}-${j}`, { listenPath: `/${i}/${j}`, upstream: { targets: [{ url: 'http://127.0.0.1:1' }] } }) as ApiDefinition),
    }));
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
