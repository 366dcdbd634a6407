import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { test } from 'node:test';
import type { JSONSchema } from '../kind.ts';
import { array, integer, map, object, string } from '../schema/build.ts';
import { fieldElement, FieldSet, pathString } from './field-set.ts';
import {
  ApplyConflictError,
  appliesNothing,
  applyConfig,
  capUpdateManagers,
  identityKey,
  recordUpdate,
  type ManagedEntry,
  type Managers,
  type ManagerIdentity,
} from './managers.ts';
import { compare, duplicateItems, fieldsOf, merge } from './typed.ts';

// The parts of apps/v1 Deployment these tests touch, with the list types kube declares for them.
const deployment: JSONSchema = object('Deployment.', {
  metadata: object('Metadata.', {
    labels: map('Labels.'),
    finalizers: array('Finalizers.', string('F.'), { 'x-kubernetes-list-type': 'set' }),
  }),
  spec: object('Spec.', {
    replicas: integer('Replicas.'),
    template: object('Template.', {
      spec: object('Pod spec.', {
        containers: array(
          'Containers.',
          object('Container.', {
            name: string('Name.'),
            image: string('Image.'),
            args: array('Args.', string('Arg.')),
          }),
          { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
        ),
      }),
    }),
  }),
});

const nginx = {
  metadata: { labels: { app: 'nginx' } },
  spec: { replicas: 1, template: { spec: { containers: [{ name: 'nginx', image: 'nginx' }] } } },
};

const kubectlCreate: ManagerIdentity = { manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1' };
const NOW = '2026-01-02T03:04:05Z';
const LATER = '2026-01-02T03:05:00Z';

test('an Update creating an object owns what it set, created objects and list items as members (kube fixture)', () => {
  const managers = recordUpdate(deployment, {}, nginx, new Map(), kubectlCreate, NOW);
  const [entry] = managers.values();
  assert.equal(entry.manager, 'kubectl-create');
  assert.equal(entry.time, NOW);
  // What kube-apiserver records for `kubectl create deployment nginx --image=nginx` (see field-set.test.ts),
  // minus f:metadata, which kube's field manager strips.
  assert.deepEqual(entry.fields.toFieldsV1(), {
    'f:metadata': { '.': {}, 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': {
      '.': {},
      'f:replicas': {},
      'f:template': {
        '.': {},
        'f:spec': {
          '.': {},
          'f:containers': { '.': {}, 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } },
        },
      },
    },
  });
});

test('an apply config owns its leaves and list items only; atomic lists are one field', () => {
  const config = {
    spec: { template: { spec: { containers: [{ name: 'nginx', args: ['-v'] }] } } },
    metadata: { finalizers: ['a'] },
  };
  assert.deepEqual(fieldsOf(deployment, config).paths().map(pathString), [
    '.spec.template.spec.containers[name="nginx"]',
    '.spec.template.spec.containers[name="nginx"].name',
    '.spec.template.spec.containers[name="nginx"].args',
    '.metadata.finalizers[="a"]',
  ]);
});

test('merge: associative lists merge by key in the config order, atomic lists are replaced', () => {
  const live = {
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'a', image: 'a:1', args: ['x'] },
            { name: 'side', image: 's' },
            { name: 'b', image: 'b:1' },
          ],
        },
      },
    },
  };
  const containers = [
    { name: 'b', image: 'b:2' },
    { name: 'a', args: ['y'] },
  ];
  const config = { spec: { template: { spec: { containers } } } };
  assert.deepEqual(merge(deployment, live, config), {
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'b', image: 'b:2' },
            { name: 'a', image: 'a:1', args: ['y'] },
            { name: 'side', image: 's' },
          ],
        },
      },
    },
  });
  const diff = compare(deployment, live, merge(deployment, live, config));
  assert.deepEqual(diff.modified.paths().map(pathString), [
    '.spec.template.spec.containers[name="a"].args',
    '.spec.template.spec.containers[name="b"].image',
  ]);
});

const alice: ManagerIdentity = { manager: 'alice', operation: 'Apply', apiVersion: 'apps/v1' };
const bob: ManagerIdentity = { manager: 'bob', operation: 'Apply', apiVersion: 'apps/v1' };

test('apply: a field another manager owns is a conflict unless forced, then it changes hands', () => {
  const first = applyConfig(deployment, {}, { spec: { replicas: 1 } }, new Map(), alice, false, NOW);
  // The same value applied by another manager is shared, not a conflict.
  const shared = applyConfig(deployment, first.object, { spec: { replicas: 1 } }, first.managers, bob, false, LATER);
  assert.equal(shared.managers.size, 2);
  const three = { spec: { replicas: 3 } };
  assert.throws(
    () => applyConfig(deployment, first.object, three, first.managers, bob, false, LATER),
    (err: unknown) =>
      err instanceof ApplyConflictError &&
      err.conflicts.length === 1 &&
      err.conflicts[0].manager.manager === 'alice' &&
      pathString(err.conflicts[0].path) === '.spec.replicas',
  );
  const forced = applyConfig(deployment, first.object, { spec: { replicas: 3 } }, first.managers, bob, true, LATER);
  assert.deepEqual(forced.object, { spec: { replicas: 3 } });
  assert.deepEqual(
    [...forced.managers.values()].map((e) => e.manager),
    ['bob'],
  );
});

test('apply: a null over a filled map or list merges as an empty one; over a value or an empty one it is the value', () => {
  const first = applyConfig(deployment, {}, nginx, new Map(), alice, false, NOW);
  const nulls = { metadata: { labels: null }, spec: { template: { spec: { containers: null } } } };
  // As structured-merge-diff: no conflict with alice's labels and containers, which stay; bob owns both as leaves.
  const kept = applyConfig(deployment, first.object, nulls, first.managers, bob, false, LATER);
  assert.deepEqual(kept.object, nginx);
  assert.deepEqual(kept.managers.get(identityKey(bob))?.fields.toFieldsV1(), {
    'f:metadata': { 'f:labels': {} },
    'f:spec': { 'f:template': { 'f:spec': { 'f:containers': {} } } },
  });
  assert.throws(
    () => applyConfig(deployment, first.object, { spec: { replicas: null } }, first.managers, bob, false, LATER),
    (err: unknown) => err instanceof ApplyConflictError && pathString(err.conflicts[0].path) === '.spec.replicas',
  );
  assert.deepEqual(merge(deployment, { metadata: { labels: {} } }, { metadata: { labels: null } }), {
    metadata: { labels: null },
  });
});

test('apply: a field no longer applied is removed, unless another manager owns it', () => {
  let managers: Managers = new Map();
  let object: unknown = {};
  const labels = (l: Record<string, string>) => ({ metadata: { labels: l } });
  const all = labels({ a: '1', b: '2', c: '3' });
  ({ object, managers } = applyConfig(deployment, object, all, managers, alice, false, NOW));
  ({ object, managers } = applyConfig(deployment, object, labels({ c: '3' }), managers, bob, false, NOW));
  ({ object, managers } = applyConfig(deployment, object, labels({ a: '1' }), managers, alice, false, LATER));
  assert.deepEqual(object, labels({ a: '1', c: '3' }));
  // Applying the same again changes nothing, and the manager keeps its time.
  const again = applyConfig(deployment, object, labels({ a: '1' }), managers, alice, false, '2027-01-01T00:00:00Z');
  assert.deepEqual(again.object, object);
  assert.equal([...again.managers.values()].find((e) => e.manager === 'alice')?.time, LATER);
});

test('appliesNothing says, without applying, whether an apply would leave the object and its entry as they are', () => {
  const applied = applyConfig(deployment, {}, nginx, new Map(), alice, false, NOW);
  // A label someone else added since: theirs, so applying nginx again still changes nothing.
  const labelled = { ...nginx, metadata: { labels: { app: 'nginx', team: 'web' } } };
  const edit: ManagerIdentity = { manager: 'kubectl-edit', operation: 'Update', apiVersion: 'apps/v1' };
  const live = recordUpdate(deployment, applied.object, labelled, applied.managers, edit, NOW);
  const containers = (list: object[]) => ({
    ...nginx,
    spec: { ...nginx.spec, template: { spec: { containers: list } } },
  });
  const configs = {
    same: nginx,
    'a value changed': { ...nginx, spec: { ...nginx.spec, replicas: 2 } },
    'a field left out': { ...nginx, metadata: {} },
    'a field added with the value live has': { ...nginx, metadata: labelled.metadata },
    'a repeated list item': containers([...nginx.spec.template.spec.containers, { name: 'nginx', image: 'nginx' }]),
  };
  const owned = (live.get(identityKey(alice)) as ManagedEntry).fields;
  const outcomes = Object.entries(configs).map(([name, config]) => {
    const predicted = appliesNothing(deployment, labelled, config, owned);
    let actual: boolean;
    try {
      const result = applyConfig(deployment, labelled, config, live, alice, false, LATER);
      actual = isDeepStrictEqual(result.object, labelled) && isDeepStrictEqual(result.managers, live);
    } catch {
      actual = false;
    }
    return [name, predicted, actual];
  });
  assert.deepEqual(
    outcomes.map(([name, predicted]) => [name, predicted]),
    [
      ['same', true],
      ['a value changed', false],
      ['a field left out', false],
      ['a field added with the value live has', false],
      ['a repeated list item', false],
    ],
  );
  // Never "nothing" where the apply would write: its prediction holds whenever it says so.
  for (const [name, predicted, actual] of outcomes) if (predicted) assert.equal(actual, true, String(name));
});

test('an Update takes the fields it changes from appliers, and an Update that changes nothing records nothing', () => {
  const applied = applyConfig(deployment, {}, { spec: { replicas: 1 } }, new Map(), alice, false, NOW);
  const edit: ManagerIdentity = { manager: 'kubectl-edit', operation: 'Update', apiVersion: 'apps/v1' };
  const same = recordUpdate(deployment, applied.object, applied.object, applied.managers, edit, LATER);
  assert.deepEqual(
    [...same.values()].map((e) => e.manager),
    ['alice'],
  );
  const changed = recordUpdate(deployment, applied.object, { spec: { replicas: 2 } }, applied.managers, edit, LATER);
  assert.deepEqual(
    [...changed.values()].map((e) => [e.manager, e.fields.paths().map(pathString)]),
    [['kubectl-edit', ['.spec.replicas']]],
  );
});

test('a key field left out of an associative list item counts with its default', () => {
  const ports: JSONSchema = object('Ports.', {
    ports: array(
      'Ports.',
      object('Port.', { port: integer('Port.'), protocol: string('Protocol.', { default: 'TCP' }) }),
      { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port', 'protocol'] },
    ),
  });
  const live = { ports: [{ port: 80, protocol: 'TCP' }] };
  assert.deepEqual(merge(ports, live, { ports: [{ port: 80 }] }), live);
  assert.deepEqual(
    fieldsOf(ports, { ports: [{ port: 80 }] })
      .paths()
      .map(pathString),
    ['.ports[port=80,protocol="TCP"]', '.ports[port=80,protocol="TCP"].port'],
  );
});

test('repeated items of set and associative lists are found with their field path', () => {
  const obj = {
    metadata: { finalizers: ['a', 'b', 'a'] },
    spec: { template: { spec: { containers: [{ name: 'x' }, { name: 'y' }, { name: 'x', image: 'other' }] } } },
  };
  assert.deepEqual(duplicateItems(deployment, obj), [
    { field: 'metadata.finalizers[2]', repeated: '"a"' },
    { field: 'spec.template.spec.containers[2]', repeated: '{"name":"x"}' },
  ]);
});

test("kube's cap on Update managers: the oldest merge into ancient-changes per API version, Apply entries stay", () => {
  const entry = (manager: string, second: number, apiVersion = 'v1', operation: 'Update' | 'Apply' = 'Update') => {
    const fields = FieldSet.of([[fieldElement('data'), fieldElement(manager)]]);
    const time = `2026-01-02T03:04:${String(second).padStart(2, '0')}Z`;
    return { manager, operation, apiVersion, time, fields } satisfies ManagedEntry;
  };
  const of = (entries: ManagedEntry[]): Managers => new Map(entries.map((e) => [identityKey(e), e]));
  // u09 is the oldest by time; u00 and u01 tie on time and go by name; u02 is of another version.
  const updates = [entry('u09', 1), entry('u00', 2), entry('u01', 2), entry('u02', 3, 'v2')];
  const later = Array.from({ length: 8 }, (_, i) => entry(`w${i}`, 10 + i));
  const capped = capUpdateManagers(of([...updates, ...later, entry('applier', 0, 'v1', 'Apply')]), 10);
  const summary = [...capped.values()].map((e) => `${e.manager} ${e.operation} ${e.apiVersion} ${e.time?.slice(-3)}`);
  // 12 Updates: u09 stays first of v1 until u00 joins it; u01 joins the bucket next; u02 (v2) is not needed.
  assert.deepEqual(summary.sort(), [
    'ancient-changes Update v1 02Z',
    'applier Apply v1 00Z',
    'u02 Update v2 03Z',
    ...later.map((e) => `${e.manager} Update v1 ${e.time.slice(-3)}`),
  ]);
  const bucket = capped.get(identityKey({ manager: 'ancient-changes', operation: 'Update', apiVersion: 'v1' }));
  assert.deepEqual(bucket?.fields.toFieldsV1(), { 'f:data': { 'f:u00': {}, 'f:u01': {}, 'f:u09': {} } });
  assert.equal(capUpdateManagers(of(later), 10).size, 8, 'under the cap nothing changes');
});
