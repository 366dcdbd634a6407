import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/kind.ts';
import { Graph, type Node, type OwnerReference } from './graph.ts';

function recording() {
  const queued: string[] = [];
  const graph = new Graph({
    attemptToDelete: (node: Node) => queued.push(`delete ${node.identity.name}${node.virtual ? ' (virtual)' : ''}`),
    attemptToOrphan: (node: Node) => queued.push(`orphan ${node.identity.name}`),
  });
  return { graph, queued };
}

/** A graph whose queued nodes are kept, to look into. */
function capturing() {
  const nodes: Node[] = [];
  return { graph: new Graph({ attemptToDelete: (n) => nodes.push(n), attemptToOrphan: (n) => nodes.push(n) }), nodes };
}

function object(name: string, owners: OwnerReference[] = [], meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  const metadata = { name, namespace: 'ns', uid: `uid-${name}`, ownerReferences: owners, ...meta };
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata };
}

function ref(name: string, blockOwnerDeletion?: boolean): OwnerReference {
  const reference: OwnerReference = { apiVersion: 'v1', kind: 'ConfigMap', name, uid: `uid-${name}` };
  return blockOwnerDeletion ? { ...reference, blockOwnerDeletion } : reference;
}

test('an owner named before it is seen is a virtual node, queued to be looked up, real once observed', () => {
  const { graph, queued } = recording();
  graph.observe(object('dependent', [ref('owner')]));
  assert.deepEqual(queued, ['delete owner (virtual)']);
  graph.observe(object('owner'));
  assert.equal(graph.size, 2);
  queued.length = 0;
  graph.forget(object('owner'));
  assert.deepEqual(queued, ['delete dependent'], 'the dependents of a deleted owner are looked at');
});

test('a foreground deletion queues the dependents and the owner; one no longer blocking it queues the owner', () => {
  const { graph, queued } = recording();
  graph.observe(object('owner'));
  graph.observe(object('blocking', [ref('owner', true)]));
  graph.observe(object('free', [ref('owner')]));
  graph.observe(object('owner', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }));
  assert.deepEqual(queued, ['delete blocking', 'delete free', 'delete owner']);
  queued.length = 0;
  graph.observe(object('blocking', [ref('owner')]));
  assert.deepEqual(queued, ['delete owner'], 'blockOwnerDeletion was dropped');
  queued.length = 0;
  graph.forget(object('free'));
  assert.deepEqual(queued, ['delete owner'], 'a dependent of an owner waiting for its dependents went');
  queued.length = 0;
  graph.observe(object('late', [ref('owner', true)]));
  assert.deepEqual(queued, ['delete late'], 'a dependent added while the owner waits is deleted too');
});

test('only dependents whose reference has blockOwnerDeletion block a foreground deletion', () => {
  const { graph, nodes } = capturing();
  graph.observe(object('owner'));
  graph.observe(object('blocking', [ref('owner', true)]));
  graph.observe(object('free', [ref('owner')]));
  graph.observe(object('owner', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }));
  const owner = nodes.find((n) => n.identity.name === 'owner') as Node;
  assert.equal(owner.deletingDependents, true);
  assert.deepEqual(
    owner.blockingDependents().map((n) => n.identity.name),
    ['blocking'],
  );
});

test('an orphaning owner is queued to orphan, however often it is seen', () => {
  const { graph, queued } = recording();
  graph.observe(object('owner'));
  graph.observe(object('dependent', [ref('owner')]));
  const orphaning = object('owner', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'] });
  graph.observe(orphaning);
  graph.observe(orphaning);
  assert.deepEqual(queued, ['orphan owner', 'orphan owner']);
});

test('a virtual node found absent goes, its dependents queued; a real one is not taken for it', () => {
  const { graph, nodes } = capturing();
  graph.observe(object('dependent', [ref('never')]));
  const virtual = nodes[0] as Node;
  assert.equal(virtual.virtual, true);
  graph.forgetVirtual(virtual);
  assert.deepEqual(
    nodes.map((n) => n.identity.name),
    ['never', 'dependent'],
  );
  assert.equal(graph.size, 1);
  graph.observe(object('owner'));
  const real = graph.size;
  graph.forgetVirtual(nodes[1] as Node);
  assert.equal(graph.size, real, 'an observed node goes only when its deletion is seen');
});
