// deploy/ as a cluster gets it: `kubectl kustomize` renders the base and each overlay (real kubectl), every
// rendered object passes an offline schema check, the RBAC in it is the default policy's, and `gatehouse install`
// renders the same objects plus the serving certificate, and server-side applies them to a cluster's API.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../src/api/kind.ts';
import type { ClusterRole, Role } from '../src/api/rbac/types.ts';
import { BOOTSTRAP_CLUSTER_ROLES } from '../src/apiserver/auth/rbac/bootstrap-policy.ts';
import { GC_LEASE } from '../src/apiserver/gc/garbage-collection.ts';
import { SERVING_SECRET } from '../src/cli/install/names.ts';
import { clusterPolicyYaml } from '../src/cli/install/policy.ts';
import { kubeconfig } from '../src/cli/kubeconfig.ts';
import { KUBECTL } from './support/apiserver.ts';
import { gatehouse } from './support/cli.ts';
import { schemaErrors } from './support/manifest-schema.ts';

const exec = promisify(execFile);
const DEPLOY = new URL('../deploy/', import.meta.url).pathname;
const KUSTOMIZATIONS = { base: '', 'cert-manager': 'overlays/cert-manager', postgres: 'overlays/postgres' };
type Name = keyof typeof KUSTOMIZATIONS;
const SERVICE_HOST = 'gatehouse-apiserver.gatehouse-system.svc';

interface Workload extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: unknown };
  };
}

type PodSpec = { containers: { image: string }[] };

const parse = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((doc) => doc.toJSON() as KubeObject | null)
    .filter((obj): obj is KubeObject => obj !== null);
const key = (obj: KubeObject) => `${obj.kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
const byKey = (objects: KubeObject[]) => new Map(objects.map((obj) => [key(obj), obj]));
const find = <T extends KubeObject>(objects: KubeObject[], kind: string, name: string) =>
  objects.find((obj) => obj.kind === kind && obj.metadata.name === name) as T;
const secretData = (secret: KubeObject) => {
  const data = (secret as KubeObject & { data: Record<string, string> }).data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
};

describe('deploy/', () => {
  const rendered = {} as Record<Name, KubeObject[]>;

  before(async () => {
    for (const [name, dir] of Object.entries(KUSTOMIZATIONS)) {
      const { stdout } = await exec(KUBECTL, ['kustomize', join(DEPLOY, dir)]);
      rendered[name as Name] = parse(stdout);
    }
  });

  it('renders with kubectl kustomize, base and overlays, every object valid against its schema', () => {
    const errors = Object.values(rendered).flatMap((objects) => objects.flatMap(schemaErrors));
    assert.deepEqual(errors, []);
    // The overlays add cert-manager's two Issuers and two Certificates, and PostgreSQL's Secret, Service and
    // StatefulSet.
    assert.equal(rendered['cert-manager'].length, rendered.base.length + 4);
    assert.equal(rendered.postgres.length, rendered.base.length + 3);
    // The check is not vacuous: a misspelled field and a wrong type are found.
    const apiserver = structuredClone(find<Workload>(rendered.base, 'Deployment', 'gatehouse-apiserver'));
    Object.assign(apiserver.spec, { replica: 2, replicas: '2' });
    assert.deepEqual(schemaErrors(apiserver), [
      'Deployment gatehouse-apiserver.spec.replicas: expected a int32, got "2"',
      'Deployment gatehouse-apiserver.spec.replica: unknown field (V1DeploymentSpec)',
    ]);
  });

  it('holds the default policy: rbac/policy.yaml is generated from it, its ClusterRoles carry its rules', async () => {
    const policy = await readFile(join(DEPLOY, 'base/rbac/policy.yaml'), 'utf8');
    assert.ok(policy === clusterPolicyYaml(), 'deploy/base/rbac/policy.yaml is stale: run npm run generate:deploy');
    const gatehouseRoles = BOOTSTRAP_CLUSTER_ROLES.filter((role) => role.metadata.name?.startsWith('gatehouse:'));
    assert.deepEqual(
      gatehouseRoles.map((role) => role.metadata.name),
      ['gatehouse:admin', 'gatehouse:edit', 'gatehouse:view', 'gatehouse:gateway', 'gatehouse:controller'],
    );
    for (const role of gatehouseRoles) {
      const deployed = find<ClusterRole>(rendered.base, 'ClusterRole', role.metadata.name!);
      assert.deepEqual(deployed.rules, role.rules, role.metadata.name);
      const aggregateTo = (r: KubeObject) =>
        Object.entries(r.metadata.labels ?? {}).filter(([label]) => label.includes('/aggregate-to-'));
      assert.deepEqual(aggregateTo(deployed), aggregateTo(role), role.metadata.name);
    }
  });

  it('runs the API server aggregated: replicas, disruption budget, probes, Secrets, APIService', () => {
    const objects = rendered.base;
    const apiserver = find<Workload>(objects, 'Deployment', 'gatehouse-apiserver');
    const pod = apiserver.spec.template.spec as {
      serviceAccountName: string;
      affinity: { podAntiAffinity: unknown };
      containers: { args: string[]; env: unknown[]; readinessProbe: unknown; livenessProbe: unknown }[];
      volumes: { secret?: { secretName: string } }[];
    };
    const labels = apiserver.spec.template.metadata.labels;
    assert.equal(apiserver.spec.replicas, 2);
    assert.equal(pod.serviceAccountName, 'gatehouse-apiserver');
    assert.ok(pod.affinity.podAntiAffinity);
    const [container] = pod.containers;
    assert.deepEqual(container.args.slice(0, 3), [
      'apiserver',
      '--mode=aggregated',
      '--storage=$(GATEHOUSE_DATABASE_URL)',
    ]);
    assert.deepEqual(container.env, [
      { name: 'GATEHOUSE_DATABASE_URL', valueFrom: { secretKeyRef: { name: 'gatehouse-postgres', key: 'url' } } },
    ]);
    assert.deepEqual(container.readinessProbe, {
      httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' },
      periodSeconds: 5,
      failureThreshold: 2,
    });
    assert.equal((container.livenessProbe as { httpGet: { path: string } }).httpGet.path, '/livez');
    assert.ok(pod.volumes.some((v) => v.secret?.secretName === SERVING_SECRET));
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    const budget = find<Workload>(objects, 'PodDisruptionBudget', 'gatehouse-apiserver');
    assert.ok(selects(budget.spec.selector.matchLabels));
    const service = find<KubeObject & { spec: { selector: Record<string, string> } }>(
      objects,
      'Service',
      'gatehouse-apiserver',
    );
    assert.ok(selects(service.spec.selector));
    const apiService = find<KubeObject & { spec: Record<string, unknown> }>(
      objects,
      'APIService',
      'v1alpha1.gatehouse.dev',
    );
    assert.deepEqual(apiService.spec.service, {
      name: 'gatehouse-apiserver',
      namespace: 'gatehouse-system',
      port: 443,
    });
    const delegation = objects
      .filter((obj) => obj.kind.endsWith('Binding'))
      .map((b) => (b as never as { roleRef: { name: string } }).roleRef.name);
    assert.ok(delegation.includes('system:auth-delegator'));
    assert.ok(delegation.includes('extension-apiserver-authentication-reader'));
    const gcLease = find<Role>(objects, 'Role', 'gatehouse:apiserver:garbage-collector-lease');
    assert.ok(gcLease.rules?.some((rule) => rule.resourceNames?.includes(GC_LEASE.name)));
    // The overlays: cert-manager makes the Secret the API server mounts and injects its CA; postgres the URL's.
    const certificate = find<KubeObject & { spec: { secretName: string; dnsNames: string[] } }>(
      rendered['cert-manager'],
      'Certificate',
      'gatehouse-apiserver',
    );
    assert.equal(certificate.spec.secretName, SERVING_SECRET);
    assert.ok(certificate.spec.dnsNames.includes(SERVICE_HOST));
    const injected = find(rendered['cert-manager'], 'APIService', 'v1alpha1.gatehouse.dev');
    assert.equal(
      injected.metadata.annotations?.['cert-manager.io/inject-ca-from'],
      'gatehouse-system/gatehouse-apiserver',
    );
    assert.ok(find(rendered.postgres, 'Secret', 'gatehouse-postgres'));
  });

  /** The serving certificate Secret and the caBundle install adds: the certificate is for the Service's name,
   * signed by the CA the APIService names. */
  function assertServingCertificate(objects: KubeObject[]) {
    const { 'tls.crt': cert, 'ca.crt': ca } = secretData(find(objects, 'Secret', SERVING_SECRET));
    const serving = new X509Certificate(cert);
    const authority = new X509Certificate(ca);
    assert.ok(serving.verify(authority.publicKey), 'the serving certificate is signed by the CA');
    assert.equal(serving.checkHost(SERVICE_HOST), SERVICE_HOST);
    const apiService = find<KubeObject & { spec: { caBundle: string } }>(
      objects,
      'APIService',
      'v1alpha1.gatehouse.dev',
    );
    assert.equal(Buffer.from(apiService.spec.caBundle, 'base64').toString(), ca);
  }

  it('install --dry-run renders as kubectl kustomize, plus the certificate unless cert-manager makes it', async () => {
    const names = Object.keys(KUSTOMIZATIONS) as Name[];
    // Each a process of its own, run at once.
    const results = await Promise.all(
      names.map((name) => gatehouse(['install', '--dry-run', ...(name === 'base' ? [] : ['--overlay', name])])),
    );
    for (const [i, name] of names.entries()) {
      const result = results[i];
      assert.equal(result.code, 0, result.stderr);
      const installed = parse(result.stdout);
      assert.equal(installed[0].kind, 'Namespace', 'the namespace is applied first');
      assert.equal(installed.at(-1)?.kind, 'APIService', 'the APIService last');
      const expected = byKey(rendered[name]);
      if (name !== 'cert-manager') {
        assertServingCertificate(installed);
        const apiService = find<KubeObject & { spec: Record<string, unknown> }>(
          installed,
          'APIService',
          'v1alpha1.gatehouse.dev',
        );
        delete apiService.spec.caBundle;
        expected.set(`Secret gatehouse-system/${SERVING_SECRET}`, find(installed, 'Secret', SERVING_SECRET));
      }
      assert.deepEqual(byKey(installed), expected, name);
    }
  });

  describe('gatehouse install against a cluster', () => {
    let api: Server;
    let dir: string;
    const requests: { method: string; path: string; contentType?: string }[] = [];
    const objects = new Map<string, unknown>();

    // The cluster's API as install uses it: GET of the serving Secret and server-side apply (PATCH as
    // application/apply-patch+yaml), answered as kube-apiserver answers them; every request is recorded.
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'gatehouse-install-'));
      api = createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => void (body += d.toString()));
        req.on('end', () => {
          const url = new URL(req.url ?? '/', 'http://cluster');
          requests.push({
            method: req.method ?? '',
            path: `${url.pathname}${url.search}`,
            contentType: req.headers['content-type'],
          });
          res.setHeader('content-type', 'application/json');
          if (req.method === 'PATCH') objects.set(url.pathname, JSON.parse(body));
          const stored = objects.get(url.pathname);
          if (stored) return void res.end(JSON.stringify(stored));
          res.statusCode = 404;
          res.end(
            JSON.stringify({
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              reason: 'NotFound',
              code: 404,
              message: 'not found',
            }),
          );
        });
      });
      await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
      const server = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
      await writeFile(join(dir, 'kubeconfig'), kubeconfig(server, '', 'admin-token'));
    });
    after(async () => {
      api?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('server-side applies every object in order; an upgrade to another image keeps the certificate', async () => {
      const install = (...args: string[]) => gatehouse(['install', '--kubeconfig', join(dir, 'kubeconfig'), ...args]);
      const first = await install();
      assert.equal(first.code, 0, first.stderr);
      const lines = first.stdout.trim().split('\n');
      // deploy/'s objects and the serving certificate's Secret.
      assert.equal(lines.length, rendered.base.length + 1);
      assert.equal(lines[0], 'namespace/gatehouse-system serverside-applied');
      assert.equal(lines.at(-1), 'apiservice.apiregistration.k8s.io/v1alpha1.gatehouse.dev serverside-applied');
      const secretPath = `/api/v1/namespaces/gatehouse-system/secrets/${SERVING_SECRET}`;
      const patches = requests.filter((r) => r.method === 'PATCH');
      assert.deepEqual(requests[0], { method: 'GET', path: secretPath, contentType: undefined });
      assert.equal(patches.length, lines.length);
      for (const patch of patches) {
        assert.equal(patch.contentType, 'application/apply-patch+yaml');
        assert.match(patch.path, /\?fieldValidation=Strict&fieldManager=gatehouse-install$/);
      }
      assert.ok(objects.has('/apis/apps/v1/namespaces/gatehouse-system/deployments/gatehouse-apiserver'));
      assert.ok(objects.has('/apis/apiregistration.k8s.io/v1/apiservices/v1alpha1.gatehouse.dev'));
      const applied = [...objects.values()] as KubeObject[];
      assertServingCertificate(applied);
      const certificate = secretData(find(applied, 'Secret', SERVING_SECRET));

      // An upgrade to another image: every Gatehouse container gets it, PostgreSQL's is not touched.
      const second = await install('--image', 'registry.example/gatehouse:0.2.0');
      assert.equal(second.code, 0, second.stderr);
      const upgraded = [...objects.values()] as KubeObject[];
      assert.deepEqual(secretData(find(upgraded, 'Secret', SERVING_SECRET)), certificate);
      const images = upgraded
        .filter((obj) => obj.kind === 'Deployment')
        .flatMap((obj) => (obj as Workload & { spec: { template: { spec: PodSpec } } }).spec.template.spec.containers)
        .map((c) => c.image);
      assert.deepEqual(images, Array(3).fill('registry.example/gatehouse:0.2.0'));
    });
  });
});
