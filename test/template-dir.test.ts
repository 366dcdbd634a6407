// The machine-wide templates test processes copy (PostgreSQL's and PGlite's fresh clusters): made once, never
// seen half-made, and a copy of PGlite's opens as an empty Gatehouse store.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStorage } from '../src/storage/open.ts';
import { freshPgliteDir } from './support/pglite.ts';
import { templateDir } from './support/template-dir.ts';

describe('template directories', () => {
  const name = `gatehouse-template-test-${process.pid}`;
  const cleanup = async () => {
    for (const entry of await readdir(tmpdir())) {
      if (entry.startsWith(name)) await rm(join(tmpdir(), entry), { recursive: true, force: true });
    }
  };
  after(cleanup);

  it('is made by one of two processes racing for it, and neither sees it half-made', async () => {
    let makes = 0;
    const seen: string[] = [];
    // Each maker writes its part, yields, then the file that marks a finished one.
    const make = async (target: string) => {
      makes++;
      await writeFile(join(target, 'part'), basename(target));
      await new Promise((resolve) => setImmediate(resolve));
      await writeFile(join(target, 'complete'), '');
    };
    const use = async () => {
      const template = await templateDir(name, 'complete', make);
      seen.push(await readFile(join(template, 'part'), 'utf8'));
      return template;
    };
    const [a, b] = await Promise.all([use(), use()]);
    assert.equal(a, b);
    assert.equal(makes, 2, 'both raced to make it');
    assert.equal(seen[0], seen[1], "both use the winner's");
    assert.deepEqual(
      (await readdir(tmpdir())).filter((entry) => entry.startsWith(name)),
      [name],
      "the loser's attempt is gone",
    );
    await use();
    assert.equal(makes, 2, 'a finished one is reused');
  });

  it('is not kept when making it fails, so the next one to need it makes it', async () => {
    await cleanup();
    await assert.rejects(
      templateDir(name, 'complete', async () => {
        throw new Error('initdb failed');
      }),
      /initdb failed/,
    );
    assert.deepEqual(
      (await readdir(tmpdir())).filter((entry) => entry.startsWith(name)),
      [],
    );
    const made = await templateDir(name, 'complete', (target) => writeFile(join(target, 'complete'), ''));
    assert.ok(existsSync(join(made, 'complete')));
  });

  it('gives PGlite a fresh cluster that opens as an empty store, each copy its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-fresh-pglite-'));
    try {
      const first = await openStorage(`pglite:${await freshPgliteDir(join(dir, 'a'))}`, { compactEvery: 0 });
      const key = { resource: 'things.gatehouse.dev/things', namespace: 'ns', name: 'a' };
      try {
        assert.equal(await first.currentRevision(), 0);
        assert.equal((await first.create(key, { labels: {} }, (rev) => `{"rv":${rev}}`)).revision, 1);
      } finally {
        await first.close();
      }
      const second = await openStorage(`pglite:${await freshPgliteDir(join(dir, 'b'))}`, { compactEvery: 0 });
      try {
        await assert.rejects(second.get(key), { code: 'NotFound' }, 'nothing of the first copy');
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
