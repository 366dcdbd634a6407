// Gatehouse aggregated behind a real kube-apiserver 1.32 (`gatehouse apiserver --mode aggregated`, registered by
// an APIService): kubectl reaches gatehouse.dev through kube-aggregator, the cluster's RBAC decides who may,
// kube's namespace controller deletes Gatehouse's objects of a deleted namespace, and Gatehouse being down
// costs the cluster nothing but gatehouse.dev (docs/operations.md, "Running in a cluster").
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiDefinitionKind } from '../../src/api/kinds/api-definition/index.ts';
import { KUBECTL } from '../support/apiserver.ts';
import { startGatehouse } from '../support/cli.ts';
import { eventually } from '../support/eventually.ts';
import { type Echo, startUpstream } from '../support/gateway.ts';
import { Agent, fetch } from 'undici';
import { API_SERVICE, type AggregatedGatehouse, startAggregatedGatehouse } from './aggregated-gatehouse.ts';
import { freePort, GATEHOUSE_NAMESPACE, type KubeCluster, startKubeCluster } from './kube-cluster.ts';

const apiDefinition = (name: string, namespace: string, listenPath = `/${name}`, upstream = 'http://127.0.0.1:9') =>
  JSON.stringify({
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name, namespace },
    spec: { listenPath, upstream: { targets: [{ url: upstream }] } },
  });
/** Discovery, RBAC aggregation and namespace deletion converge in seconds; a loaded machine gets minutes. */
const CONVERGE = { attempts: 360, intervalMs: 500 };

describe('Gatehouse aggregated behind a real kube-apiserver', () => {
  let cluster: KubeCluster;
  let gatehouse: AggregatedGatehouse;
  before(async () => {
    cluster = await startKubeCluster({ users: [{ name: 'alice', groups: ['api-team'] }, { name: 'bob' }] });
    gatehouse = await startAggregatedGatehouse(cluster);
  });
  after(async () => {
    await gatehouse?.stop();
    await cluster?.stop();
  });

  /** The namespace controller cannot list gatehouse.dev, so it keeps the namespace and says why. */
  async function waitingForGatehouse(name: string) {
    await eventually(async () => {
      const namespace = JSON.parse(await cluster.kubectlOk(['get', 'namespace', name, '-o', 'json']));
      assert.equal(namespace.status.phase, 'Terminating');
      const conditions = namespace.status.conditions as { type: string; status: string; message: string }[];
      const failure = conditions.find((c) => c.type === 'NamespaceDeletionDiscoveryFailure');
      assert.equal(failure?.status, 'True');
      assert.match(failure.message, /gatehouse\.dev\/v1alpha1/);
    }, CONVERGE);
  }

  test('kubectl api-resources lists gatehouse.dev from kube-aggregator’s discovery', async () => {
    const resources = await eventually(async () => {
      const out = await cluster.kubectlOk(['api-resources', '--api-group=gatehouse.dev', '-o', 'name']);
      assert.match(out, /^apidefinitions\.gatehouse\.dev$/m);
      return out;
    }, CONVERGE);
    assert.match(resources, /^syncs\.gatehouse\.dev$/m);
  });

  test('kubectl apply, get (table and -o yaml), patch and delete an ApiDefinition', async () => {
    assert.match(
      await cluster.kubectlOk(['apply', '-f', '-'], { input: apiDefinition('orders', 'default') }),
      /apidefinition\.gatehouse\.dev\/orders created/,
    );
    const table = await cluster.kubectlOk(['get', 'apis']);
    assert.match(table, /^NAME\s+LISTEN PATH\s+UPSTREAM/m);
    assert.match(table, /^orders\s+\/orders\s+http:\/\/127\.0\.0\.1:9/m);
    const yaml = await cluster.kubectlOk(['get', 'apidefinition', 'orders', '-o', 'yaml']);
    assert.match(yaml, /^apiVersion: gatehouse\.dev\/v1alpha1$/m);
    assert.match(yaml, /^ {2}listenPath: \/orders$/m);
    await cluster.kubectlOk(['patch', 'apis', 'orders', '--type=merge', '-p', '{"spec":{"listenPath":"/v2/orders"}}']);
    assert.equal(await cluster.kubectlOk(['get', 'apis', 'orders', '-o', 'jsonpath={.spec.listenPath}']), '/v2/orders');
    assert.match(await cluster.kubectlOk(['delete', 'apis', 'orders']), /"orders" deleted/);
    assert.match((await cluster.kubectl(['get', 'apis', 'orders'])).stderr, /NotFound/);
  });

  // The reference for what a null means: kube-apiserver serving a CRD with ApiDefinition's own schema (and one
  // validation rule, standing for the kind's own checks). The same kubectl calls go to both; the answers must match.
  test('nulls in creates, patches and applies are taken as kube-apiserver takes them for a CRD', async () => {
    const mirror = 'mirror.gatehouse.dev';
    const spec = { ...apiDefinitionKind.schema.properties?.spec, 'x-kubernetes-validations': [{ rule: 'true' }] };
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `apidefinitions.${mirror}` },
      spec: {
        group: mirror,
        scope: 'Namespaced',
        names: { plural: 'apidefinitions', singular: 'apidefinition', kind: 'ApiDefinition' },
        versions: [
          {
            name: 'v1alpha1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec } } },
          },
        ],
      },
    };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(crd) });
    await cluster.kubectlOk(['wait', '--for=condition=Established', `crd/apidefinitions.${mirror}`]);
    const resource = (group: string) => `apidefinitions.v1alpha1.${group}`;
    const manifest = (group: string, name: string, metadata: string[], specLines: string[]) =>
      [
        `apiVersion: ${group}/v1alpha1`,
        'kind: ApiDefinition',
        'metadata:',
        `  name: ${name}`,
        ...metadata,
        'spec:',
        ...specLines,
      ].join('\n');
    const upstream = ['  upstream:', '    targets:', '    - url: http://127.0.0.1:9'];
    type Call = [args: string[], input?: string];
    /** What the calls left: the object's labels, annotations, spec and the fields `nulls` owns, or the first refusal. */
    const outcome = async (group: string, name: string, calls: Call[]) => {
      for (const [args, input] of calls) {
        const r = await cluster.kubectl(args, { input });
        if (r.code !== 0) return { refused: r.stderr.replaceAll(group, 'GROUP') };
      }
      const get = ['get', resource(group), name, '-o', 'json', '--show-managed-fields'];
      const obj = JSON.parse(await cluster.kubectlOk(get));
      const entries = obj.metadata.managedFields as { manager: string; fieldsV1: unknown }[];
      const owned = entries.find((m) => m.manager === 'nulls')?.fieldsV1;
      const left = { labels: obj.metadata.labels, annotations: obj.metadata.annotations, spec: obj.spec, owned };
      return JSON.parse(JSON.stringify(left).replaceAll(group, 'GROUP'));
    };
    const apply: string[] = ['apply', '--server-side', '--field-manager=nulls', '-f', '-'];
    const overClientSideApply =
      (name: string, flags: string[]) =>
      (g: string): [string, ...Call[]] => {
        const nulls = manifest(
          g,
          name,
          ['  annotations:'],
          [`  listenPath: /${name}`, '  stripListenPath:', ...upstream],
        );
        return [name, [['apply', '-f', '-'], nulls], [[...apply, ...flags], nulls]];
      };
    const cases: [what: string, calls: (group: string) => [name: string, ...Call[]]][] = [
      [
        'create with null fields',
        (g) => {
          const body = {
            apiVersion: `${g}/v1alpha1`,
            kind: 'ApiDefinition',
            metadata: { name: 'created', labels: { a: null, b: 'x' }, annotations: null },
            spec: {
              listenPath: '/c',
              stripListenPath: null,
              upstream: { targets: [{ url: 'http://127.0.0.1:9', weight: null }] },
            },
          };
          const path = `/apis/${g}/v1alpha1/namespaces/default/apidefinitions`;
          return ['created', [['create', '--raw', path, '-f', '-'], JSON.stringify(body)]];
        },
      ],
      [
        'create with a required field null',
        (g) => ['required', [['create', '-f', '-'], manifest(g, 'required', [], ['  listenPath:', ...upstream])]],
      ],
      [
        'apply with null metadata, a defaulted null and a label null',
        (g) => {
          const metadata = ['  annotations:', '  labels:', '    a:'];
          return [
            'applied',
            [apply, manifest(g, 'applied', metadata, ['  listenPath: /a', '  stripListenPath:', ...upstream])],
          ];
        },
      ],
      [
        'apply with a null weight',
        (g) => ['weighted', [apply, manifest(g, 'weighted', [], ['  listenPath: /w', ...upstream, '      weight:'])]],
      ],
      [
        'apply with a required field null',
        (g) => ['unset', [apply, manifest(g, 'unset', [], ['  listenPath:', ...upstream])]],
      ],
      // The client-side apply owns the annotation it writes and the defaulted stripListenPath: a null over a
      // filled map changes nothing, a null over a value conflicts, unless forced.
      ['server-side apply of nulls over a client-side apply', overClientSideApply('taken', [])],
      [
        'forced server-side apply of nulls over a client-side apply',
        overClientSideApply('forced', ['--force-conflicts']),
      ],
      [
        'JSON patch adding a null',
        (g) => {
          const patch = '[{"op":"add","path":"/spec/upstream/targets/0/weight","value":null}]';
          return ['created', [['patch', resource(g), 'created', '--type=json', '-p', patch]]];
        },
      ],
      [
        'merge patch removing a required field',
        (g) => ['created', [['patch', resource(g), 'created', '--type=merge', '-p', '{"spec":{"upstream":null}}']]],
      ],
    ];
    for (const [what, calls] of cases) {
      const [name, ...reference] = calls(mirror);
      const expected = await outcome(mirror, name, reference);
      const [, ...gatehouseCalls] = calls('gatehouse.dev');
      assert.deepEqual(await outcome('gatehouse.dev', name, gatehouseCalls), expected, what);
    }
    await cluster.kubectlOk(['delete', 'crd', `apidefinitions.${mirror}`]);
    await cluster.kubectlOk(['delete', 'apis', 'created', 'applied', 'taken', 'forced']);
  });

  test('kubectl explain reads Gatehouse’s schema from kube-aggregator’s OpenAPI', async () => {
    const explained = await eventually(
      () => cluster.kubectlOk(['explain', 'apidefinitions.spec.upstream.targets']),
      CONVERGE,
    );
    assert.match(explained, /^GROUP:\s+gatehouse\.dev$/m);
    assert.match(explained, /^KIND:\s+ApiDefinition$/m);
    assert.match(explained, /^ {2}url\s/m);
  });

  test('X-Remote-User without the front proxy’s client certificate gets 401 from Gatehouse', async () => {
    const dispatcher = new Agent({ connect: { ca: gatehouse.ca } });
    try {
      const res = await fetch(`${gatehouse.url}/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions`, {
        headers: { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' },
        dispatcher,
      });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { reason: string }).reason, 'Unauthorized');
    } finally {
      await dispatcher.close();
    }
  });

  test('kubectl get -w streams a change through kube-apiserver', async () => {
    await cluster.kubectlOk(['apply', '-f', '-'], { input: apiDefinition('watched', 'default', '/before') });
    const watch = spawn(KUBECTL, [
      ...['--kubeconfig', cluster.kubeconfigOf(), 'get', 'apis', 'watched', '-w'],
      ...['-o', 'custom-columns=PATH:.spec.listenPath', '--no-headers'],
    ]);
    let seen = '';
    watch.stdout.on('data', (chunk) => {
      seen += chunk;
    });
    try {
      await eventually(() => assert.match(seen, /^\/before$/m), CONVERGE);
      await cluster.kubectlOk(['patch', 'apis', 'watched', '--type=merge', '-p', '{"spec":{"listenPath":"/after"}}']);
      await eventually(() => assert.match(seen, /^\/after$/m), CONVERGE);
    } finally {
      watch.kill();
    }
  });

  test('the cluster’s RBAC decides: edit (aggregating gatehouse:edit) may, no binding gets 403', async () => {
    await cluster.kubectlOk(['create', 'namespace', 'team-a']);
    await cluster.kubectlOk([
      'create',
      'rolebinding',
      'api-team',
      '-n',
      'team-a',
      '--clusterrole=edit',
      '--group=api-team',
    ]);
    // kube-controller-manager aggregates gatehouse:edit's rules into edit (label aggregate-to-edit).
    await eventually(
      () => cluster.kubectlOk(['apply', '-f', '-'], { as: 'alice', input: apiDefinition('payments', 'team-a') }),
      CONVERGE,
    );
    assert.match(await cluster.kubectlOk(['get', 'apis', '-n', 'team-a'], { as: 'alice' }), /^payments\s/m);
    const denied = await cluster.kubectl(['get', 'apis', '-n', 'team-a'], { as: 'bob' });
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /Forbidden.*"bob" cannot list resource "apidefinitions" in API group "gatehouse\.dev" in the namespace "team-a"/,
    );
    const write = await cluster.kubectl(['delete', 'apis', 'payments', '-n', 'team-a'], { as: 'bob' });
    assert.match(write.stderr, /Forbidden/);
    assert.match(await cluster.kubectlOk(['get', 'apis', '-n', 'team-a', '-o', 'name']), /payments/);
  });

  test('the gateway, as ServiceAccount gatehouse-gateway, serves what kubectl applies via the aggregator', async () => {
    const [first, second] = [await startUpstream('first'), await startUpstream('second')];
    const port = await freePort();
    const kubeconfig = await cluster.serviceAccountKubeconfig(GATEHOUSE_NAMESPACE, 'gatehouse-gateway');
    const gateway = await startGatehouse(
      [
        ...['gateway', '--kubeconfig', kubeconfig, '--port', String(port)],
        ...['--internal-port', String(await freePort()), '--data-dir', join(cluster.dir, 'gateway')],
      ],
      'gateway listening',
    );
    const upstreamOf = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/shop/items`);
      assert.equal(res.status, 200);
      return ((await res.json()) as Echo).upstream;
    };
    try {
      const shop = (upstream: string) => apiDefinition('shop', 'default', '/shop', upstream);
      await cluster.kubectlOk(['apply', '-f', '-'], { input: shop(first.url) });
      await eventually(async () => assert.equal(await upstreamOf(), 'first'), CONVERGE);
      // The gateway's watch of ApiDefinitions runs through kube-aggregator to Gatehouse.
      await cluster.kubectlOk(['apply', '-f', '-'], { input: shop(second.url) });
      await eventually(async () => assert.equal(await upstreamOf(), 'second'), CONVERGE);
    } finally {
      await gateway.stop();
      await first.close();
      await second.close();
    }
  });

  test('a namespace deleted in the cluster: kube’s namespace controller deletes Gatehouse’s objects', async () => {
    await cluster.kubectlOk(['create', 'namespace', 'team-b']);
    await cluster.kubectlOk(['apply', '-f', '-'], { input: apiDefinition('inventory', 'team-b') });
    await cluster.kubectlOk(['delete', 'namespace', 'team-b', '--wait=false']);
    await eventually(
      async () => assert.match((await cluster.kubectl(['get', 'namespace', 'team-b'])).stderr, /NotFound/),
      CONVERGE,
    );
    await cluster.kubectlOk(['create', 'namespace', 'team-b']);
    assert.equal(await cluster.kubectlOk(['get', 'apis', '-n', 'team-b', '-o', 'name']), '');
  });

  test('Gatehouse down: gatehouse.dev answers 503 at once, other groups work, namespace deletion waits', async () => {
    await cluster.kubectlOk(['create', 'namespace', 'team-c']);
    await cluster.kubectlOk(['apply', '-f', '-'], { input: apiDefinition('billing', 'team-c') });
    await gatehouse.kill();
    await eventually(async () => {
      const apiService = JSON.parse(await cluster.kubectlOk(['get', 'apiservice', API_SERVICE, '-o', 'json']));
      const available = (apiService.status.conditions as { type: string; status: string; reason: string }[]).find(
        (c) => c.type === 'Available',
      );
      assert.deepEqual([available?.status, available?.reason], ['False', 'FailedDiscoveryCheck']);
    }, CONVERGE);
    // A hang would end in kubectl's own timeout error, not in kube-aggregator's ServiceUnavailable.
    const down = await cluster.kubectl(['get', 'apis', '-A', '--request-timeout=20s']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /ServiceUnavailable.*the server is currently unable to handle the request/);
    for (const args of [
      ['get', 'namespaces'],
      ['get', 'configmaps', '-A'],
      ['get', 'pods', '-A'],
    ]) {
      const other = await cluster.kubectl([...args, '--request-timeout=20s']);
      assert.equal(other.code, 0, `kubectl ${args.join(' ')}: ${other.stderr}`);
    }
    assert.match(await cluster.kubectlOk(['get', 'namespace', 'kube-system', '-o', 'name']), /kube-system/);

    await cluster.kubectlOk(['delete', 'namespace', 'team-c', '--wait=false']);
    await waitingForGatehouse('team-c');

    await gatehouse.start();
    await eventually(
      async () => assert.match((await cluster.kubectl(['get', 'namespace', 'team-c'])).stderr, /NotFound/),
      CONVERGE,
    );
    assert.doesNotMatch(await cluster.kubectlOk(['get', 'apis', '-A', '-o', 'name']), /billing/);
  });

  test('Gatehouse gone: deleting its APIService unblocks a namespace; restarted, it drops the objects', async () => {
    await cluster.kubectlOk(['create', 'namespace', 'team-d']);
    await cluster.kubectlOk(['apply', '-f', '-'], { input: apiDefinition('ledger', 'team-d') });
    await gatehouse.kill();
    await cluster.kubectlOk(['delete', 'namespace', 'team-d', '--wait=false']);
    await waitingForGatehouse('team-d');
    await cluster.kubectlOk(['delete', 'apiservice', API_SERVICE]);
    await eventually(
      async () => assert.match((await cluster.kubectl(['get', 'namespace', 'team-d'])).stderr, /NotFound/),
      CONVERGE,
    );
    // Its objects in team-d outlived the namespace in its storage; started again, Gatehouse deletes them.
    await gatehouse.start();
    await eventually(
      async () => assert.doesNotMatch(await cluster.kubectlOk(['get', 'apis', '-A', '-o', 'name']), /ledger/),
      CONVERGE,
    );
  });
});
