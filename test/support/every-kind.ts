// One object of every kind the API server stores: the URL it lives at and a valid body, all named `name`
// (namespaced ones in `default`; they name each other, so each exists once all are created, in this order).
// Tests that must cover every kind check the list against allKinds with kindsMissing.
import { allKinds, apiVersionOf } from '../../src/api/kinds.ts';

// biome-ignore lint/suspicious/noExplicitAny: bodies are JSON of every kind's shape
type Obj = Record<string, any>;

export function objectOfEveryKind(name: string): Array<[path: string, body: Obj]> {
  const gh = 'gatehouse.dev/v1alpha1';
  const hash = `sha256:${'a'.repeat(64)}`;
  const gv = '/apis/gatehouse.dev/v1alpha1/namespaces/default';
  const rbac = 'rbac.authorization.k8s.io/v1';
  const rbacKind = (kind: string) => ({ apiVersion: rbac, kind, metadata: { name } });
  const rules = [{ apiGroups: ['gatehouse.dev'], resources: ['syncs'], verbs: ['get'] }];
  const binding = (kind: string) => ({
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: 'default' }],
  });
  return [
    [`/api/v1/namespaces/${name}`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }],
    [
      `/api/v1/namespaces/default/configmaps/${name}`,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } },
    ],
    [
      `/api/v1/namespaces/default/secrets/${name}`,
      // Flux applies a Secret's stringData as data: the server turns stringData into data on every write.
      { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { token: 'dA==' } },
    ],
    [
      `${gv}/apidefinitions/${name}`,
      {
        apiVersion: gh,
        kind: 'ApiDefinition',
        metadata: { name },
        spec: { listenPath: `/${name}/`, upstream: { targets: [{ url: 'http://127.0.0.1:9000' }] } },
      },
    ],
    [
      `${gv}/securitypolicies/${name}`,
      {
        apiVersion: gh,
        kind: 'SecurityPolicy',
        metadata: { name },
        spec: { apis: [{ name, methods: ['GET'] }] },
      },
    ],
    [`${gv}/consumers/${name}`, { apiVersion: gh, kind: 'Consumer', metadata: { name }, spec: { policies: [name] } }],
    [`${gv}/apikeys/${name}`, { apiVersion: gh, kind: 'ApiKey', metadata: { name }, spec: { consumer: name, hash } }],
    [
      `${gv}/gitrepositories/${name}`,
      {
        apiVersion: gh,
        kind: 'GitRepository',
        metadata: { name },
        spec: { url: 'https://git.example/apis.git' },
      },
    ],
    [`${gv}/syncs/${name}`, { apiVersion: gh, kind: 'Sync', metadata: { name }, spec: { sourceRef: { name } } }],
    [
      `${gv}/receivers/${name}`,
      {
        apiVersion: gh,
        kind: 'Receiver',
        metadata: { name },
        spec: { type: 'github', secretRef: { name }, resources: [{ name }] },
      },
    ],
    [
      `${gv}/providers/${name}`,
      { apiVersion: gh, kind: 'Provider', metadata: { name }, spec: { type: 'generic', secretRef: { name } } },
    ],
    [
      `${gv}/alerts/${name}`,
      {
        apiVersion: gh,
        kind: 'Alert',
        metadata: { name },
        spec: { providerRef: { name }, eventSources: [{ kind: 'Sync', name }] },
      },
    ],
    [
      `${gv}/subresourcerequests/${name}`,
      {
        apiVersion: gh,
        kind: 'SubresourceRequest',
        metadata: { name },
        spec: { responder: 'controller', target: { resource: 'syncs', name }, subresource: 'reconcile' },
      },
    ],
    [
      `/api/v1/namespaces/default/serviceaccounts/${name}`,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } },
    ],
    [
      `/api/v1/namespaces/default/events/${name}`,
      { apiVersion: 'v1', kind: 'Event', metadata: { name }, involvedObject: { kind: 'Sync', name } },
    ],
    [
      `/apis/coordination.k8s.io/v1/namespaces/default/leases/${name}`,
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name },
        spec: { holderIdentity: 'a' },
      },
    ],
    [`/apis/${rbac}/namespaces/default/roles/${name}`, { ...rbacKind('Role'), rules }],
    [`/apis/${rbac}/clusterroles/${name}`, { ...rbacKind('ClusterRole'), rules }],
    [`/apis/${rbac}/namespaces/default/rolebindings/${name}`, { ...rbacKind('RoleBinding'), ...binding('Role') }],
    [`/apis/${rbac}/clusterrolebindings/${name}`, { ...rbacKind('ClusterRoleBinding'), ...binding('ClusterRole') }],
  ];
}

/** The `apiVersion kind` of each stored kind `objects` has no object of. */
export function kindsMissing(objects: Array<[string, Obj]>): string[] {
  const covered = new Set(objects.map(([, o]) => `${o.apiVersion} ${o.kind}`));
  return allKinds.map((def) => `${apiVersionOf(def)} ${def.kind}`).filter((k) => !covered.has(k));
}
