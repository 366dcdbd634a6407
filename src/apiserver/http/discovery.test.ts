import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KindDefinition } from '../../api/kind.ts';
import {
  AGGREGATED_DISCOVERY_V2,
  AGGREGATED_DISCOVERY_V2BETA1,
  aggregatedDiscovery,
  legacyCoreVersions,
  legacyGroup,
  legacyGroupList,
  legacyResourceList,
  negotiateDiscovery,
  storageVersionHash,
  type ExtraSubresource,
} from './discovery.ts';

function fixtureKind(
  overrides: Partial<KindDefinition> & Pick<KindDefinition, 'group' | 'version' | 'kind'>,
): KindDefinition {
  const plural = `${overrides.kind.toLowerCase()}s`;
  return {
    listKind: `${overrides.kind}List`,
    plural,
    singular: overrides.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    namespaced: true,
    statusSubresource: false,
    generation: false,
    schema: { type: 'object', properties: {} },
    printerColumns: [],
    strategy: {},
    description: `${overrides.kind} fixture.`,
    ...overrides,
  };
}

const fixtureKinds: KindDefinition[] = [
  fixtureKind({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    namespaced: false,
    statusSubresource: true,
    shortNames: ['ns'],
  }),
  fixtureKind({ group: '', version: 'v1', kind: 'Secret' }),
  fixtureKind({
    group: 'gatehouse.dev',
    version: 'v1alpha1',
    kind: 'ApiDefinition',
    plural: 'apidefinitions',
    singular: 'apidefinition',
    shortNames: ['api', 'apis'],
    categories: ['gatehouse'],
    statusSubresource: true,
    schema: {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          description: 'Desired state of the API.',
          properties: {
            listenPath: { type: 'string', description: 'Path prefix the gateway serves the API on.' },
            retries: { type: 'integer', nullable: true, description: 'Retry count.' },
          },
        },
      },
    },
  }),
  fixtureKind({
    group: 'gatehouse.dev',
    version: 'v1alpha1',
    kind: 'Sync',
    statusSubresource: true,
    shortNames: ['sync'],
  }),
];

const fixtureExtras: ExtraSubresource[] = [
  { kind: 'ApiDefinition', name: 'probe', verbs: ['create'] },
  {
    kind: 'ApiDefinition',
    name: 'history',
    verbs: ['get'],
    responseKind: { group: 'gatehouse.dev', version: 'v1alpha2', kind: 'History' },
  },
  { kind: 'Sync', name: 'reconcile', verbs: ['create'] },
];

const KUBECTL_ACCEPT = `${AGGREGATED_DISCOVERY_V2},${AGGREGATED_DISCOVERY_V2BETA1},application/json`;

describe('legacy discovery', () => {
  it('serves /api as APIVersions with the server address', () => {
    assert.deepEqual(legacyCoreVersions('10.0.0.1:6443'), {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }],
    });
  });

  it('lists named groups only at /apis, and serves each group at /apis/GROUP', () => {
    const entry = {
      name: 'gatehouse.dev',
      versions: [{ groupVersion: 'gatehouse.dev/v1alpha1', version: 'v1alpha1' }],
      preferredVersion: { groupVersion: 'gatehouse.dev/v1alpha1', version: 'v1alpha1' },
    };
    assert.deepEqual(legacyGroupList(fixtureKinds), { kind: 'APIGroupList', apiVersion: 'v1', groups: [entry] });
    assert.deepEqual(legacyGroup(fixtureKinds, 'gatehouse.dev'), { kind: 'APIGroup', apiVersion: 'v1', ...entry });
    assert.equal(legacyGroup(fixtureKinds, 'apps'), undefined);
    assert.equal(legacyGroup(fixtureKinds, ''), undefined);
  });

  it('computes the storage version hash as kube-apiserver publishes it', () => {
    // Values served by kube-apiserver for the core kinds.
    assert.equal(storageVersionHash('', 'v1', 'Secret'), 'S6u1pOWzb84=');
    assert.equal(storageVersionHash('', 'v1', 'Namespace'), 'Q3oi5N2YM8M=');
  });

  it('serves /api/v1 without apiVersion, with cluster-scoped namespaces and their status', () => {
    const list = legacyResourceList(fixtureKinds, '', 'v1', fixtureExtras);
    assert.ok(list);
    assert.equal('apiVersion' in list, false);
    assert.equal(list.groupVersion, 'v1');
    assert.deepEqual(
      list.resources.map((r) => r.name),
      ['namespaces', 'namespaces/status', 'secrets'],
    );
    assert.deepEqual(list.resources[0], {
      name: 'namespaces',
      singularName: 'namespace',
      namespaced: false,
      kind: 'Namespace',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['ns'],
      storageVersionHash: 'Q3oi5N2YM8M=',
    });
    assert.equal('shortNames' in list.resources[2], false, 'empty shortNames are omitted');
    assert.equal('categories' in list.resources[2], false, 'empty categories are omitted');
  });

  it('lists subresources after their parent with their verbs and response kinds', () => {
    const list = legacyResourceList(fixtureKinds, 'gatehouse.dev', 'v1alpha1', fixtureExtras);
    assert.ok(list);
    assert.equal(list.apiVersion, 'v1');
    assert.equal(list.groupVersion, 'gatehouse.dev/v1alpha1');
    assert.deepEqual(
      list.resources.map((r) => [r.name, r.verbs.join(',')]),
      [
        ['apidefinitions', 'create,delete,deletecollection,get,list,patch,update,watch'],
        ['apidefinitions/history', 'get'],
        ['apidefinitions/probe', 'create'],
        ['apidefinitions/status', 'get,patch,update'],
        ['syncs', 'create,delete,deletecollection,get,list,patch,update,watch'],
        ['syncs/reconcile', 'create'],
        ['syncs/status', 'get,patch,update'],
      ],
    );
    const byName = new Map(list.resources.map((r) => [r.name, r]));
    assert.deepEqual(byName.get('apidefinitions/status'), {
      name: 'apidefinitions/status',
      singularName: '',
      namespaced: true,
      kind: 'ApiDefinition',
      verbs: ['get', 'patch', 'update'],
    });
    // A subresource answering with another group version names it, as deployments/scale does.
    assert.deepEqual(byName.get('apidefinitions/history'), {
      name: 'apidefinitions/history',
      singularName: '',
      namespaced: true,
      group: 'gatehouse.dev',
      version: 'v1alpha2',
      kind: 'History',
      verbs: ['get'],
    });
    assert.deepEqual(byName.get('apidefinitions')?.shortNames, ['api', 'apis']);
    assert.deepEqual(byName.get('apidefinitions')?.categories, ['gatehouse']);
    assert.equal(
      byName.get('apidefinitions')?.storageVersionHash,
      storageVersionHash('gatehouse.dev', 'v1alpha1', 'ApiDefinition'),
    );
  });

  it('lists a create-only kind with the create verb only and no storage version', () => {
    const review = fixtureKind({ group: 'authorization.k8s.io', version: 'v1', kind: 'Review', createOnly: true });
    const [legacy] = legacyResourceList([review], 'authorization.k8s.io', 'v1', [])!.resources;
    assert.deepEqual(legacy.verbs, ['create']);
    assert.equal(legacy.storageVersionHash, undefined);
    const [aggregated] = aggregatedDiscovery([review], 'apis', []).items[0].versions[0].resources;
    assert.deepEqual(aggregated.verbs, ['create']);
  });

  it('returns undefined for a group version that is not served', () => {
    assert.equal(legacyResourceList(fixtureKinds, 'gatehouse.dev', 'v1', []), undefined);
    assert.equal(legacyResourceList(fixtureKinds, 'apps', 'v1', []), undefined);
  });
});

describe('aggregated discovery', () => {
  it('describes the named groups at /apis', () => {
    const doc = aggregatedDiscovery(fixtureKinds, 'apis', fixtureExtras);
    assert.equal(doc.apiVersion, 'apidiscovery.k8s.io/v2');
    assert.equal(doc.kind, 'APIGroupDiscoveryList');
    assert.deepEqual(doc.metadata, {});
    assert.equal(doc.items.length, 1);
    const [group] = doc.items;
    assert.deepEqual(group.metadata, { name: 'gatehouse.dev', creationTimestamp: null });
    assert.equal(group.versions.length, 1);
    assert.equal(group.versions[0].version, 'v1alpha1');
    assert.equal(group.versions[0].freshness, 'Current');
    const [apis, syncs] = group.versions[0].resources;
    assert.deepEqual(apis, {
      resource: 'apidefinitions',
      responseKind: { group: 'gatehouse.dev', version: 'v1alpha1', kind: 'ApiDefinition' },
      scope: 'Namespaced',
      singularResource: 'apidefinition',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['api', 'apis'],
      categories: ['gatehouse'],
      subresources: [
        {
          subresource: 'history',
          responseKind: { group: 'gatehouse.dev', version: 'v1alpha2', kind: 'History' },
          verbs: ['get'],
        },
        {
          subresource: 'probe',
          responseKind: { group: 'gatehouse.dev', version: 'v1alpha1', kind: 'ApiDefinition' },
          verbs: ['create'],
        },
        {
          subresource: 'status',
          responseKind: { group: 'gatehouse.dev', version: 'v1alpha1', kind: 'ApiDefinition' },
          verbs: ['get', 'patch', 'update'],
        },
      ],
    });
    assert.deepEqual(
      syncs.subresources?.map((s) => s.subresource),
      ['reconcile', 'status'],
    );
  });

  it('describes the core group at /api without a group name', () => {
    const doc = aggregatedDiscovery(fixtureKinds, 'core', fixtureExtras);
    assert.equal(doc.items.length, 1);
    // ObjectMeta.name is omitempty, so kube-apiserver writes no name for the core group.
    assert.deepEqual(doc.items[0].metadata, { creationTimestamp: null });
    const resources = doc.items[0].versions[0].resources;
    assert.deepEqual(
      resources.map((r) => [r.resource, r.scope]),
      [
        ['namespaces', 'Cluster'],
        ['secrets', 'Namespaced'],
      ],
    );
    assert.equal(resources[0].responseKind.group, '');
    assert.equal('subresources' in resources[1], false, 'no subresources: field omitted');
  });

  it('writes the requested apidiscovery version', () => {
    assert.equal(aggregatedDiscovery(fixtureKinds, 'apis', [], 'v2beta1').apiVersion, 'apidiscovery.k8s.io/v2beta1');
  });
});

describe('negotiateDiscovery', () => {
  it('picks v2 for the Accept header kubectl sends', () => {
    assert.equal(negotiateDiscovery(KUBECTL_ACCEPT), 'v2');
  });

  it('honours header order among equal q-values', () => {
    assert.equal(negotiateDiscovery(`${AGGREGATED_DISCOVERY_V2BETA1},${AGGREGATED_DISCOVERY_V2}`), 'v2beta1');
    assert.equal(negotiateDiscovery(`application/json,${AGGREGATED_DISCOVERY_V2}`), 'legacy');
  });

  it('ranks by q-value and excludes q=0', () => {
    assert.equal(
      negotiateDiscovery(
        `${AGGREGATED_DISCOVERY_V2};q=0.5,${AGGREGATED_DISCOVERY_V2BETA1};q=0.9,application/json;q=0.1`,
      ),
      'v2beta1',
    );
    assert.equal(negotiateDiscovery(`${AGGREGATED_DISCOVERY_V2};q=0,application/json`), 'legacy');
    assert.equal(negotiateDiscovery(`application/json;q=0.2, ${AGGREGATED_DISCOVERY_V2}`), 'v2');
  });

  it('ignores parameter order, spacing and media type case', () => {
    assert.equal(negotiateDiscovery('Application/JSON; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io'), 'v2');
  });

  it('serves the legacy documents for plain JSON, wildcards, no header and unknown forms', () => {
    assert.equal(negotiateDiscovery(undefined), 'legacy');
    assert.equal(negotiateDiscovery(''), 'legacy');
    assert.equal(negotiateDiscovery('application/json'), 'legacy');
    assert.equal(negotiateDiscovery('*/*'), 'legacy');
    assert.equal(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList'), 'legacy');
    assert.equal(
      negotiateDiscovery(
        'application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
      ),
      'v2beta1',
      'protobuf is not served, so the next acceptable range wins',
    );
  });
});
