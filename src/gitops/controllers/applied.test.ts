import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/kind.ts';
import type { ChangeSet, Manifest } from '../sync/index.ts';
import { AppliedRecords, driftedManifests } from './applied.ts';

const manifest = (name: string): Manifest => ({
  file: `${name}.yaml`,
  index: 0,
  object: { apiVersion: 'gatehouse.dev/v1alpha1', kind: 'ApiDefinition', metadata: { name, namespace: 'default' } },
});
const id = (name: string) => `default_${name}_gatehouse.dev_ApiDefinition`;
const changes = (versions: Record<string, string>): ChangeSet => ({
  entries: Object.entries(versions).map(([name, resourceVersion]) => ({
    id: id(name),
    v: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    namespace: 'default',
    name,
    action: 'created',
    resourceVersion,
  })),
  counts: { created: 0, configured: 0, unchanged: 0, deleted: 0 },
  inventory: [],
  skipped: [],
  overridden: [],
});
const owner = { name: 's', namespace: 'default' };
/** The labels an apply by `owner` leaves on every object, and the annotation naming its file. */
const labels = { 'gatehouse.dev/sync-name': 's', 'gatehouse.dev/sync-namespace': 'default' };
const sourcePath = (name: string) => ({ 'gatehouse.dev/source-path': `${name}.yaml` });
const liveAt =
  (versions: Record<string, string | undefined>) =>
  (objectId: string): KubeObject | undefined => {
    const name = objectId.split('_')[1];
    const rv = versions[name];
    return rv === undefined
      ? undefined
      : {
          apiVersion: 'gatehouse.dev/v1alpha1',
          kind: 'ApiDefinition',
          metadata: { name, resourceVersion: rv, labels, annotations: sourcePath(name) },
        };
  };

test('a record matches only its revision and build settings', () => {
  const records = new AppliedRecords();
  records.record('default/s', 'main@sha1:a', 'build-2', [manifest('x')], changes({ x: '10' }));
  assert.ok(records.match('default/s', 'main@sha1:a', 'build-2'));
  assert.equal(records.match('default/s', 'main@sha1:b', 'build-2'), undefined);
  assert.equal(records.match('default/s', 'main@sha1:a', 'build-3'), undefined);
  records.forget('default/s');
  assert.equal(records.match('default/s', 'main@sha1:a', 'build-2'), undefined);
});

test('drift is a newer or missing live object; a cache behind our own write is not drift', () => {
  const records = new AppliedRecords();
  records.record(
    'k',
    'r',
    'b',
    [manifest('same'), manifest('edited'), manifest('deleted'), manifest('lagging')],
    changes({ same: '10', edited: '11', deleted: '12', lagging: '20' }),
  );
  const record = records.match('k', 'r', 'b')!;
  const drifted = driftedManifests(
    record,
    liveAt({ same: '10', edited: '15', deleted: undefined, lagging: '19' }),
    owner,
  );
  assert.deepEqual(
    drifted.map((m) => m.object.metadata.name),
    ['edited', 'deleted'],
  );
  records.update(record, changes({ edited: '16', deleted: '17' }));
  assert.deepEqual(
    driftedManifests(record, liveAt({ same: '10', edited: '16', deleted: '17', lagging: '20' }), owner),
    [],
  );
});

test('for kinds with a generation, a spec change or an applied label changed is drift; a status write is not', () => {
  const records = new AppliedRecords();
  const set = changes({ api: '10' });
  set.entries[0].generation = 3;
  records.record('k', 'r', 'b', [manifest('api')], set);
  const record = records.match('k', 'r', 'b')!;
  const at =
    (resourceVersion: string, generation: number, metadata: Partial<KubeObject['metadata']> = {}) =>
    () => ({
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'ApiDefinition',
      metadata: { name: 'api', resourceVersion, generation, labels, annotations: sourcePath('api'), ...metadata },
    });
  assert.deepEqual(driftedManifests(record, at('14', 3), owner), [], 'a status write');
  assert.equal(driftedManifests(record, at('15', 4), owner).length, 1, 'a spec edit');
  // Labels and annotations others add are theirs: the apply leaves them, so they are not drift.
  const handAnnotated = { annotations: { ...sourcePath('api'), hand: 'edit' } };
  assert.deepEqual(driftedManifests(record, at('16', 3, handAnnotated), owner), []);
  assert.deepEqual(driftedManifests(record, at('17', 3, { labels: { ...labels, team: 'x' } }), owner), []);
  const relabelled = { ...labels, 'gatehouse.dev/sync-name': 'other' };
  assert.equal(driftedManifests(record, at('18', 3, { labels: relabelled }), owner).length, 1, 'an applied label');
});
