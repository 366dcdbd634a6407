// Several `gatehouse apiserver` processes share one PostgreSQL database and see each other's
// writes in their watches (docs/operations.md): two real processes on a real PostgreSQL server,
// a write through one seen by a watch on the other, and a SIGKILL of one while a client keeps
// working through the other.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configMapKind } from '../src/api/core/config-map/index.ts';
import type { KubeObject } from '../src/api/kind.ts';
import { ensureSelfSignedCert } from '../src/apiserver/tls.ts';
import { ensureAdminToken, writeKubeconfig } from '../src/cli/kubeconfig.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import type { WatchEvent } from '../src/client/rest.ts';
import { KubeClient } from '../src/client/rest.ts';
import { apiServerReplicaArgs, startGatehouse, type GatehouseProcess } from './support/cli.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

const WRITES_BEFORE_KILL = 5;
const WRITES_AFTER_KILL = 5;

interface Replica {
  process: GatehouseProcess;
  client: KubeClient;
}

function configMap(name: string, value: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default' },
    data: { value },
  } as KubeObject;
}

type Change = { type: string; object: KubeObject };

/** Reads `events` into `seen` until the stream ends or is aborted; an ERROR event fails. */
async function collect(events: AsyncGenerator<WatchEvent<KubeObject>>, seen: Change[]): Promise<void> {
  try {
    for await (const event of events) {
      if (event.type === 'ERROR') throw new Error(`watch error: ${JSON.stringify(event.object)}`);
      seen.push(event);
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
}

/** Waits, boundedly, until `seen` holds an event matching `match`. */
async function waitForEvent(seen: Change[], match: (e: Change) => boolean) {
  for (let i = 0; i < 400 && !seen.some(match); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(seen.some(match), `not among ${seen.map((e) => `${e.type} ${e.object.metadata.name}`).join(', ')}`);
}

describe('two API server processes on one PostgreSQL database', { timeout: 300_000 }, () => {
  let postgres: TestPostgres;
  let dir: string;
  let a: Replica;
  let b: Replica;

  before(async () => {
    postgres = await startPostgres();
    const storage = await postgres.newDatabase();
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-replicas-'));
    const { tokenFile, token } = await ensureAdminToken(dir);
    // One serving certificate for both, as replicas behind one name share it.
    const tls = await ensureSelfSignedCert(join(dir, 'tls'));
    const replica = async (name: string): Promise<Replica> => {
      const process = await startGatehouse(apiServerReplicaArgs(dir, name, storage, tokenFile), 'API server listening');
      const kubeconfig = join(dir, `${name}.kubeconfig`);
      await writeKubeconfig(kubeconfig, String(process.fields.url), tls.cert, token);
      return { process, client: new KubeClient(await loadKubeconfig(kubeconfig)) };
    };
    a = await replica('a');
    b = await replica('b');
  });
  after(async () => {
    for (const replica of [a, b]) {
      await replica?.client.close();
      await replica?.process.stop();
    }
    await postgres?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a write through one is in the other's watch, in order, with the same resourceVersion", async () => {
    const abort = new AbortController();
    const seen: Change[] = [];
    const listed = await b.client.list(configMapKind, { namespace: 'default' });
    const watching = collect(
      b.client.watch(
        configMapKind,
        { namespace: 'default', resourceVersion: listed.metadata.resourceVersion },
        abort.signal,
      ),
      seen,
    );
    try {
      const created = await a.client.create(configMapKind, configMap('shared', 'one'));
      const updated = await a.client.patch(configMapKind, 'shared', { data: { value: 'two' } }, 'merge', 'default');
      await a.client.delete(configMapKind, 'shared', 'default');
      await waitForEvent(seen, (e) => e.type === 'DELETED' && e.object.metadata.name === 'shared');
      const changes = seen.filter((e) => e.object.metadata.name === 'shared');
      assert.deepEqual(
        changes.map((e) => [e.type, (e.object as { data?: { value?: string } }).data?.value]),
        [
          ['ADDED', 'one'],
          ['MODIFIED', 'two'],
          ['DELETED', 'two'],
        ],
      );
      assert.equal(changes[0].object.metadata.resourceVersion, created.metadata.resourceVersion);
      assert.equal(changes[1].object.metadata.resourceVersion, updated.metadata.resourceVersion);
    } finally {
      abort.abort();
      await watching;
    }
  });

  it('a SIGKILL of one leaves the other answering every request, its watch going on', async () => {
    const abort = new AbortController();
    const seen: Change[] = [];
    const listed = await b.client.list(configMapKind, { namespace: 'default' });
    const watching = collect(
      b.client.watch(
        configMapKind,
        { namespace: 'default', resourceVersion: listed.metadata.resourceVersion },
        abort.signal,
      ),
      seen,
    );
    try {
      // Writes alternate between the replicas until one is killed; every one must be acknowledged.
      const acknowledged: KubeObject[] = [];
      for (let i = 0; i < WRITES_BEFORE_KILL; i++) {
        const through = i % 2 === 0 ? a : b;
        acknowledged.push(await through.client.create(configMapKind, configMap(`before-${i}`, String(i))));
      }
      await a.process.kill();
      for (let i = 0; i < WRITES_AFTER_KILL; i++) {
        acknowledged.push(await b.client.create(configMapKind, configMap(`after-${i}`, String(i))));
      }
      // The survivor has every acknowledged write, those made through the killed one included,
      // and its watch delivered each of them.
      const names = (await b.client.list(configMapKind, { namespace: 'default' })).items.map((o) => o.metadata.name);
      for (const written of acknowledged) {
        assert.ok(names.includes(written.metadata.name), `${written.metadata.name} is listed`);
        await waitForEvent(
          seen,
          (e) => e.type === 'ADDED' && e.object.metadata.resourceVersion === written.metadata.resourceVersion,
        );
      }
    } finally {
      abort.abort();
      await watching;
    }
  });
});
