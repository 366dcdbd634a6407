// Every write acknowledged before a SIGKILL (of the writer, or of the PostgreSQL server under it)
// must be there after reopening, and revisions must continue above every acknowledged one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStorage } from '../src/storage/open.ts';
import { freshPgliteDir } from './support/pglite.ts';
import { startPostgres } from './support/postgres.ts';
import type { TestPostgres } from './support/postgres.ts';

const writer = fileURLToPath(new URL('./support/storage-crash-writer.ts', import.meta.url));
const resource = 'crash.gatehouse.dev/things';
const ACKS_BEFORE_KILL = 120;

/** Runs the writer until it has acknowledged `acks` writes, then `crash`es right after the last
 * one and SIGKILLs the writer; returns the latest acknowledged revision of each name. Acks
 * still in the pipe when the crash comes were acknowledged before it, so they count too. */
async function writeThenCrash(spec: string, acks: number, crash: () => Promise<void>): Promise<Map<string, number>> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, spec], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const acknowledged = new Map<string, number>();
  let count = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const [word, name, revision] = line.split(' ');
    if (word !== 'ack') continue;
    acknowledged.set(name, Math.max(acknowledged.get(name) ?? 0, Number(revision)));
    if (++count === acks) {
      await crash();
      child.kill('SIGKILL');
    }
  }
  await exited;
  assert.ok(count >= acks, `writer stopped early:\n${stderr}`);
  return acknowledged;
}

async function checkAfterRestart(spec: string, acknowledged: Map<string, number>): Promise<void> {
  const storage = await openStorage(spec, { compactEvery: 0 });
  try {
    for (const [name, revision] of acknowledged) {
      const stored = await storage.get({ resource, namespace: 'ns', name });
      assert.ok(stored.revision >= revision, `${name} is at revision ${stored.revision}, acknowledged ${revision}`);
      assert.equal(JSON.parse(stored.value).rv, stored.revision);
    }
    const highest = Math.max(...acknowledged.values());
    assert.ok((await storage.currentRevision()) >= highest);
    const after = await storage.create(
      { resource, namespace: 'ns', name: 'after-restart' },
      { labels: {} },
      (rev) => `{"rv":${rev}}`,
    );
    assert.ok(after.revision > highest);
    const listed = await storage.list({ resource });
    assert.equal(new Set(listed.items.map((o) => o.revision)).size, listed.items.length);
  } finally {
    await storage.close();
  }
}

describe('storage crash safety', { timeout: 180_000 }, () => {
  let dir: string;
  let postgres: TestPostgres;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-crash-'));
    postgres = await startPostgres();
  });
  after(async () => {
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write of PGlite on disk after SIGKILL', async () => {
    const spec = `pglite:${await freshPgliteDir(join(dir, 'pglite'))}`;
    await checkAfterRestart(spec, await writeThenCrash(spec, ACKS_BEFORE_KILL, async () => undefined));
  });

  it('keeps every acknowledged write of PostgreSQL after SIGKILL of the writer', async () => {
    const spec = await postgres.newDatabase();
    await checkAfterRestart(spec, await writeThenCrash(spec, ACKS_BEFORE_KILL, async () => undefined));
  });

  it('keeps every acknowledged write after SIGKILL of the PostgreSQL server and a restart', async () => {
    const spec = await postgres.newDatabase();
    const acknowledged = await writeThenCrash(spec, ACKS_BEFORE_KILL, () => postgres.kill());
    await postgres.restart();
    await checkAfterRestart(spec, acknowledged);
  });
});
