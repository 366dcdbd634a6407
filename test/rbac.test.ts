// RBAC through the real API server: every default role × every verb × every kind and subresource
// answered as kube's corresponding role would; the attacks the fixed policy let through; escalation
// refused over HTTP; real kubectl creating roles and bindings.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COUNTERS_PATH } from '../src/api/counters.ts';
import type { KindDefinition } from '../src/api/kind.ts';
import { allKinds } from '../src/api/kinds.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';
import { apiManifest } from './support/manifests.ts';

const RBAC = 'rbac.authorization.k8s.io';
const STATUS_LEASE = 'gatehouse-gateway-status';
const GATEHOUSE = 'gatehouse.dev';
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const JSON_TYPE = { 'content-type': 'application/json' };
const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

/** A request the matrix makes: a verb on a resource, or on a subresource of an object. */
interface Target {
  def: KindDefinition;
  subresource?: string;
  verbs: string[];
}

/** Subresources served besides status, with their one verb. */
const EXTRA_SUBRESOURCES: [string, string, string, string][] = [
  [GATEHOUSE, 'apidefinitions', 'probe', 'create'],
  [GATEHOUSE, 'gitrepositories', 'reconcile', 'create'],
  [GATEHOUSE, 'syncs', 'reconcile', 'create'],
  [GATEHOUSE, 'syncs', 'diff', 'get'],
  [GATEHOUSE, 'apidefinitions', 'history', 'get'],
  ['', 'serviceaccounts', 'token', 'create'],
];

function targets(): Target[] {
  const out: Target[] = [];
  for (const def of allKinds) {
    out.push({ def, verbs: VERBS });
    if (def.statusSubresource) out.push({ def, subresource: 'status', verbs: ['get', 'update', 'patch'] });
    for (const [group, plural, subresource, verb] of EXTRA_SUBRESOURCES) {
      if (def.group === group && def.plural === plural) out.push({ def, subresource, verbs: [verb] });
    }
  }
  return out;
}

// What kube's roles allow, written out per role (not read from Gatehouse's policy): `resource` is
// "plural" or "plural/subresource".
const READ = new Set(['get', 'list', 'watch']);
const WRITE = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const GATEHOUSE_KINDS = [
  'apidefinitions',
  'securitypolicies',
  'consumers',
  'apikeys',
  'gitrepositories',
  'syncs',
  'receivers',
  'providers',
  'alerts',
];
const GATEWAY_READS = ['apidefinitions', 'securitypolicies', 'consumers', 'apikeys', 'subresourcerequests'];

/** kube's view: reads of namespaced things but Secrets, RBAC and Leases; status reads; the Namespaces. */
function view(group: string, resource: string, verb: string): boolean {
  const [plural, sub] = resource.split('/');
  if (!READ.has(verb)) return false;
  const core = ['configmaps', 'events', 'serviceaccounts', 'namespaces', 'namespaces/status'];
  if (group === '') return core.includes(resource);
  if (group !== GATEHOUSE) return false;
  if (sub) return sub === 'status' || (['syncs/diff', 'apidefinitions/history'].includes(resource) && verb === 'get');
  return GATEHOUSE_KINDS.includes(plural) || plural === 'subresourcerequests';
}

/** kube's edit: view, Secrets, writes of namespaced objects (not status, not RBAC), the action subresources. */
function edit(group: string, resource: string, verb: string): boolean {
  if (view(group, resource, verb)) return true;
  if (group === '') {
    if (resource === 'secrets') return true;
    if (resource === 'serviceaccounts/token') return verb === 'create';
    return ['configmaps', 'serviceaccounts'].includes(resource) && WRITE.has(verb);
  }
  if (group !== GATEHOUSE) return false;
  const actions = ['apidefinitions/probe', 'gitrepositories/reconcile', 'syncs/reconcile'];
  if (actions.includes(resource)) return verb === 'create';
  return GATEHOUSE_KINDS.includes(resource) && WRITE.has(verb);
}

/** kube's admin: edit, and the namespace's Roles and RoleBindings. */
function admin(group: string, resource: string, verb: string): boolean {
  return edit(group, resource, verb) || (group === RBAC && ['roles', 'rolebindings'].includes(resource));
}

/** A gateway: reads what it serves (Secrets only by a Role of their namespace, naming them), writes ApiDefinition and
 * probe status, Events, its Lease. */
function gateway(group: string, resource: string, verb: string): boolean {
  if (group === GATEHOUSE) {
    if (['apidefinitions/status', 'subresourcerequests/status'].includes(resource)) return verb === 'patch';
    return READ.has(verb) && GATEWAY_READS.includes(resource);
  }
  // Its Lease comes with a Role in one namespace, bound to the gateways' group (see below), not with this role.
  if (group !== '') return false;
  return resource === 'events' && ['create', 'patch'].includes(verb);
}

/** The GitOps controller: everything on Gatehouse kinds and statuses and on namespaced core kinds; RBAC read only
 * (what a Sync applies is watched for drift); of Leases only creating one, as its election Lease alone is named
 * for the rest (the matrix asks about an object of another name). */
function controller(group: string, resource: string, verb: string): boolean {
  const kinds = [...GATEHOUSE_KINDS, 'subresourcerequests'];
  if (group === RBAC) return READ.has(verb);
  if (group === GATEHOUSE) return kinds.some((p) => resource === p || resource === `${p}/status`);
  if (group === '') return ['namespaces', 'secrets', 'configmaps', 'serviceaccounts', 'events'].includes(resource);
  return group === 'coordination.k8s.io' && resource === 'leases' && verb === 'create';
}

const ROLES: Record<string, (group: string, resource: string, verb: string) => boolean> = {
  'gatehouse:view': view,
  'gatehouse:edit': edit,
  'gatehouse:admin': admin,
  'gatehouse:gateway': gateway,
  'gatehouse:controller': controller,
  // kube's own aggregated roles hold Gatehouse's through the aggregate-to-* labels.
  view,
  edit,
  admin,
};

const tokenOf = (role: string) => `token-${role.replace(/:/g, '-')}`;
const userOf = (role: string) => `user-${role.replace(/:/g, '-')}`;

/** The request that asks for `verb` on `target`; writes are dry runs on objects that do not exist. */
function requestFor(target: Target, verb: string): { path: string; init: RequestInit } {
  const { def, subresource } = target;
  const prefix = `${def.group ? `/apis/${def.group}` : '/api'}/${def.version}`;
  const base = `${prefix}${def.namespaced ? '/namespaces/default' : ''}/${def.plural}`;
  const object = `${base}/rbac-matrix-absent${subresource ? `/${subresource}` : ''}`;
  const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
  const body = JSON.stringify({ apiVersion, kind: def.kind, metadata: { name: 'rbac-matrix-absent' } });
  const nothing = 'labelSelector=rbac-matrix%3Dnone';
  switch (verb) {
    case 'get':
      return { path: object, init: {} };
    case 'list':
      return { path: `${base}?${nothing}`, init: {} };
    case 'watch':
      return { path: `${base}?watch=1&${nothing}`, init: {} };
    case 'create':
      return {
        path: `${subresource ? object : base}?dryRun=All`,
        init: { method: 'POST', headers: JSON_TYPE, body: subresource ? '{}' : body },
      };
    case 'update':
      return { path: `${object}?dryRun=All`, init: { method: 'PUT', headers: JSON_TYPE, body } };
    case 'patch':
      return { path: `${object}?dryRun=All`, init: { method: 'PATCH', headers: MERGE_PATCH, body: '{}' } };
    case 'delete':
      return { path: `${object}?dryRun=All`, init: { method: 'DELETE' } };
    default:
      return { path: `${base}?dryRun=All&${nothing}`, init: { method: 'DELETE' } };
  }
}

describe('RBAC', () => {
  let t: TestApiServer;
  const post = (path: string, body: unknown, token?: string) =>
    t.request(path, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) }, token);
  const binding = (name: string, role: string, subject: { kind: string; name: string }, namespace?: string) => ({
    apiVersion: `${RBAC}/v1`,
    kind: namespace ? 'RoleBinding' : 'ClusterRoleBinding',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: RBAC, ...subject }],
  });
  /** The status of a request; a watch is cut once its answer has started. */
  async function statusOf(path: string, init: RequestInit, token: string): Promise<{ code: number; message: string }> {
    const res = await t.request(path, init, token);
    if (res.status === 200 && path.includes('watch=1')) {
      await res.body?.cancel();
      return { code: 200, message: '' };
    }
    const text = await res.text();
    return { code: res.status, message: res.status === 403 ? (JSON.parse(text) as { message: string }).message : '' };
  }

  before(async () => {
    const tokens = Object.keys(ROLES).map((role) => `${tokenOf(role)},${userOf(role)},${userOf(role)}`);
    tokens.push('viewer-token,vera,vera-uid,"gatehouse:viewers"', 'gateway-token,gw,gw-uid,"gatehouse:gateways"');
    t = await startTestApiServer('memory', { tokens });
    for (const role of Object.keys(ROLES)) {
      const grant = binding(`matrix-${role.replace(/:/g, '-')}`, role, { kind: 'User', name: userOf(role) });
      const res = await post(`/apis/${RBAC}/v1/clusterrolebindings`, grant);
      assert.equal(res.status, 201, await res.text());
    }
    // Bindings reach the authorizer through its watch; aggregated roles through the aggregation controller.
    await eventually(
      async () => {
        for (const role of Object.keys(ROLES)) {
          const res = await t.request('/api/v1/namespaces', {}, tokenOf(role));
          await res.arrayBuffer();
          assert.equal(res.status, ROLES[role]('', 'namespaces', 'list') ? 200 : 403, role);
        }
      },
      { attempts: 400 },
    );
  });
  after(() => t?.stop());

  it("answers every default role × verb × kind and subresource as kube's corresponding role", async () => {
    const wrong: string[] = [];
    for (const [role, allows] of Object.entries(ROLES)) {
      for (const target of targets()) {
        const resource = target.subresource ? `${target.def.plural}/${target.subresource}` : target.def.plural;
        for (const verb of target.verbs) {
          const { path, init } = requestFor(target, verb);
          const { code, message } = await statusOf(path, init, tokenOf(role));
          const expected = allows(target.def.group, resource, verb);
          if (expected === (code === 403)) {
            wrong.push(`${role} ${verb} ${resource}.${target.def.group}: ${code} ${message}`);
          }
          if (code === 403) {
            const where = target.def.namespaced ? 'in the namespace "default"' : 'at the cluster scope';
            const who = `User "${userOf(role)}" cannot ${verb} resource "${resource}"`;
            assert.match(
              message,
              new RegExp(`is forbidden: ${who} ` + `in API group "${target.def.group.replace(/\./g, '\\.')}" ${where}`),
            );
          }
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("refuses a viewer Secrets, with kube's message (the fixed policy let every viewer read them)", async () => {
    const res = await t.request('/api/v1/namespaces/default/secrets', {}, 'viewer-token');
    assert.equal(res.status, 403);
    const status = (await res.json()) as { reason: string; message: string; details: { kind: string } };
    assert.equal(status.reason, 'Forbidden');
    assert.equal(
      status.message,
      'secrets is forbidden: User "vera" cannot list resource "secrets" in API group "" in the namespace "default"',
    );
    assert.equal(status.details.kind, 'secrets');
    assert.equal((await t.request('/api/v1/namespaces/default/secrets/deploy-key', {}, 'viewer-token')).status, 403);
    assert.equal((await t.request('/apis/gatehouse.dev/v1alpha1/apidefinitions', {}, 'viewer-token')).status, 200);
  });

  it('keeps a gateway to its Lease namespace and its writes, and lets it add to counters', async () => {
    const lease = (namespace: string) => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: STATUS_LEASE, namespace },
    });
    const leases = (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
    await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } });
    const elsewhere = await post(leases('elsewhere'), lease('elsewhere'), 'gateway-token');
    assert.equal(elsewhere.status, 403);
    assert.equal(
      ((await elsewhere.json()) as { message: string }).message,
      'leases.coordination.k8s.io is forbidden: User "gw" cannot create resource "leases" in API group ' +
        '"coordination.k8s.io" in the namespace "elsewhere"',
    );
    assert.equal((await post(leases('default'), lease('default'), 'gateway-token')).status, 201);
    assert.equal((await t.request(leases('default'), {}, 'gateway-token')).status, 403);
    const increment = { key: 'k', window: 0, delta: 1, expiresAt: Date.now() + 60_000 };
    const counters = await post(COUNTERS_PATH, { increments: [increment] }, 'gateway-token');
    assert.equal(counters.status, 200);
    assert.equal((await post(COUNTERS_PATH, { increments: [] }, 'viewer-token')).status, 403);
  });

  it('refuses a Role granting more than its author holds, or binding a role not held, unless allowed', async () => {
    const admin = tokenOf('gatehouse:admin');
    const role = (name: string, rules: unknown[]) => ({
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { name, namespace: 'default' },
      rules,
    });
    const deleteNamespaces = role('ns-deleter', [{ verbs: ['delete'], apiGroups: [''], resources: ['namespaces'] }]);
    const roles = `/apis/${RBAC}/v1/namespaces/default/roles`;
    const refused = await post(roles, deleteNamespaces, admin);
    assert.equal(refused.status, 403);
    assert.equal(
      ((await refused.json()) as { message: string }).message,
      `roles.rbac.authorization.k8s.io "ns-deleter" is forbidden: user "${userOf('gatehouse:admin')}" ` +
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["namespaces"], Verbs:["delete"]}',
    );
    const reader = role('reader', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]);
    assert.equal((await post(roles, reader, admin)).status, 201);
    const bindings = `/apis/${RBAC}/v1/namespaces/default/rolebindings`;
    const toClusterAdmin = binding('to-cluster-admin', 'cluster-admin', { kind: 'User', name: 'mallory' }, 'default');
    const bindRefused = await post(bindings, toClusterAdmin, admin);
    assert.equal(bindRefused.status, 403);
    assert.match(
      ((await bindRefused.json()) as { message: string }).message,
      /^rolebindings\.rbac\.authorization\.k8s\.io "to-cluster-admin" is forbidden: user "user-gatehouse-admin" .*:\n/,
    );
    const toView = binding('to-view', 'gatehouse:view', { kind: 'User', name: 'mallory' }, 'default');
    assert.equal((await post(bindings, toView, admin)).status, 201);
    // Granted escalate on roles and bind on cluster-admin, the same writes pass.
    const grants = {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'delegator' },
      rules: [
        { verbs: ['escalate'], apiGroups: [RBAC], resources: ['roles'] },
        { verbs: ['bind'], apiGroups: [RBAC], resources: ['clusterroles'], resourceNames: ['cluster-admin'] },
      ],
    };
    assert.equal((await post(`/apis/${RBAC}/v1/clusterroles`, grants)).status, 201);
    const delegate = binding('delegator', 'delegator', { kind: 'User', name: userOf('gatehouse:admin') });
    assert.equal((await post(`/apis/${RBAC}/v1/clusterrolebindings`, delegate)).status, 201);
    await eventually(async () => assert.equal((await post(roles, deleteNamespaces, admin)).status, 201));
    assert.equal((await post(bindings, toClusterAdmin, admin)).status, 201);
  });

  it("refuses a server-side apply that would create an object to a user without create, as kube's", async () => {
    const patcher = {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { name: 'api-patcher', namespace: 'default' },
      rules: [{ apiGroups: [GATEHOUSE], resources: ['apidefinitions'], verbs: ['get', 'patch'] }],
    };
    assert.equal((await post(`/apis/${RBAC}/v1/namespaces/default/roles`, patcher)).status, 201);
    const grant = binding('pat-patches', '', { kind: 'User', name: 'pat' }, 'default');
    grant.roleRef = { apiGroup: RBAC, kind: 'Role', name: 'api-patcher' };
    assert.equal((await post(`/apis/${RBAC}/v1/namespaces/default/rolebindings`, grant)).status, 201);
    const apply = (listenPath: string, ...flags: string[]) =>
      t.kubectlResult(
        ['apply', '--server-side', '--field-manager=pat', '-n', 'default', '-f', '-', ...flags],
        apiManifest('pat-api', listenPath, 'http://127.0.0.1:9/'),
      );
    // Refused, as a dry run too; nothing created.
    for (const flags of [['--dry-run=server'], []]) {
      await eventually(async () => {
        const refused = await apply('/pat/', '--as', 'pat', ...flags);
        assert.equal(refused.code, 1, refused.stderr);
        assert.ok(
          refused.stderr.includes(
            'apidefinitions.gatehouse.dev "pat-api" is forbidden: User "pat" cannot create resource ' +
              '"apidefinitions" in API group "gatehouse.dev" in the namespace "default"',
          ),
          refused.stderr,
        );
      });
    }
    const absent = await t.request(`/apis/${GATEHOUSE}/v1alpha1/namespaces/default/apidefinitions/pat-api`);
    assert.equal(absent.status, 404);
    // Once the object exists, patch is all an apply needs, as in kube.
    const created = await apply('/pat/');
    assert.equal(created.code, 0, created.stderr);
    const changed = await apply('/pat2/', '--as', 'pat');
    assert.equal(changed.code, 0, changed.stderr);
  });

  it('serves the RBAC kinds to kubectl: create role, clusterrole, (cluster)rolebinding; tables; refusals', async () => {
    await t.kubectl([
      'create',
      'role',
      'api-reader',
      '--verb=get,list,watch',
      '--resource=apidefinitions.gatehouse.dev',
      '-n',
      'default',
    ]);
    await t.kubectl(['create', 'clusterrole', 'syncer', '--verb=create', '--resource=syncs.gatehouse.dev/reconcile']);
    await t.kubectl([
      'create',
      'rolebinding',
      'bob-reads',
      '--role=api-reader',
      '--user=bob',
      '--group=team',
      '-n',
      'default',
    ]);
    await t.kubectl([
      'create',
      'clusterrolebinding',
      'bob-syncs',
      '--clusterrole=syncer',
      '--user=bob',
      '--serviceaccount=default:robot',
    ]);
    const role = JSON.parse(await t.kubectl(['get', 'role', 'api-reader', '-n', 'default', '-o', 'json']));
    assert.deepEqual(role.rules, [{ apiGroups: [GATEHOUSE], resources: ['apidefinitions'], verbs: [...READ] }]);
    const clusterRole = JSON.parse(await t.kubectl(['get', 'clusterrole', 'syncer', '-o', 'json']));
    assert.deepEqual(clusterRole.rules, [
      { apiGroups: [GATEHOUSE], resources: ['syncs/reconcile'], verbs: ['create'] },
    ]);
    const wide = await t.kubectl(['get', 'rolebinding', 'bob-reads', '-n', 'default', '-o', 'wide']);
    assert.match(wide, /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\n/);
    assert.match(wide, /\nbob-reads\s+Role\/api-reader\s+\S+\s+bob\s+team\s*\n/);
    const crb = await t.kubectl(['get', 'clusterrolebinding', 'bob-syncs', '-o', 'wide']);
    assert.match(crb, /\nbob-syncs\s+ClusterRole\/syncer\s+\S+\s+bob\s+default\/robot\s*\n/);
    const view = await t.kubectl(['get', 'clusterrole', 'gatehouse:view']);
    assert.match(view, /^NAME\s+CREATED AT\ngatehouse:view\s+\d{4}-/);
    // As the viewer: Secrets refused with kube's message; RBAC writes refused.
    const viewer = ['--token', 'viewer-token'];
    const secrets = await t.kubectlResult([...viewer, 'get', 'secrets', '-n', 'default']);
    assert.notEqual(secrets.code, 0);
    assert.match(
      secrets.stderr,
      /secrets is forbidden: User "vera" cannot list resource "secrets" in API group "" in the namespace "default"/,
    );
    const create = await t.kubectlResult([
      ...viewer,
      'create',
      'rolebinding',
      'x',
      '--clusterrole=cluster-admin',
      '--user=vera',
    ]);
    assert.match(
      create.stderr,
      /rolebindings\.rbac\.authorization\.k8s\.io is forbidden: User "vera" cannot create resource "rolebindings"/,
    );
    const roleRef = await t.kubectlResult([
      'patch',
      'rolebinding',
      'bob-reads',
      '-n',
      'default',
      '--type=merge',
      '-p',
      '{"roleRef":{"name":"other"}}',
    ]);
    assert.match(roleRef.stderr, /roleRef: Invalid value: .*: cannot change roleRef/);
  });

  it('lists what a user may do with kubectl auth can-i --list (SelfSubjectRulesReview)', async () => {
    const viewer = await t.kubectl(['--token', 'viewer-token', 'auth', 'can-i', '--list', '-n', 'default']);
    assert.match(viewer, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n/);
    assert.match(viewer, /\napidefinitions\.gatehouse\.dev\s+\[\]\s+\[\]\s+\[get list watch\]\n/);
    assert.match(viewer, /\nselfsubjectrulesreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]\n/);
    assert.match(viewer, /\n\s+\[\/apis\/\*\]\s+\[\]\s+\[get\]\n/);
    assert.doesNotMatch(viewer, /\nsecrets/);
    // In a namespace where a RoleBinding grants more, the list says so; system:masters holds everything.
    await t.kubectl(['create', 'namespace', 'team']);
    await t.kubectl([
      'create',
      'rolebinding',
      'vera-edit',
      '--clusterrole=gatehouse:edit',
      '--user=vera',
      '-n',
      'team',
    ]);
    await eventually(async () => {
      const inTeam = await t.kubectl(['--token', 'viewer-token', 'auth', 'can-i', '--list', '-n', 'team']);
      const all = 'get list watch create update patch delete deletecollection';
      assert.match(inTeam, new RegExp(`\nsecrets\\s+\\[\\]\\s+\\[\\]\\s+\\[${all}\\]\n`));
    });
    assert.match(await t.kubectl(['auth', 'can-i', '--list']), /\n\*\.\*\s+\[\]\s+\[\]\s+\[\*\]\n/);
  });

  it('lets a rule with resourceNames allow a list or watch whose field selector names one of them', async () => {
    const secrets = '/api/v1/namespaces/default/secrets';
    const role = {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { name: 'deploy-key-reader', namespace: 'default' },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['deploy-key'], verbs: ['list', 'watch'] }],
    };
    assert.equal((await post(`/apis/${RBAC}/v1/namespaces/default/roles`, role)).status, 201);
    const grant = { ...binding('vera-deploy-key', '', { kind: 'User', name: 'vera' }, 'default') };
    grant.roleRef = { apiGroup: RBAC, kind: 'Role', name: 'deploy-key-reader' };
    assert.equal((await post(`/apis/${RBAC}/v1/namespaces/default/rolebindings`, grant)).status, 201);
    const selecting = (selector: string, watch = '') =>
      statusOf(`${secrets}?fieldSelector=${encodeURIComponent(selector)}${watch}`, {}, 'viewer-token');
    await eventually(async () => assert.equal((await selecting('metadata.name=deploy-key')).code, 200));
    assert.equal((await selecting('metadata.name==deploy-key', '&watch=1')).code, 200);
    assert.equal((await selecting('metadata.name=other')).code, 403);
    assert.equal((await selecting('metadata.name!=other')).code, 403);
    assert.equal((await statusOf(secrets, {}, 'viewer-token')).code, 403);
  });

  it("authorizes discovery for every authenticated user, as kube's system:discovery", async () => {
    for (const path of ['/api', '/apis', '/apis/gatehouse.dev/v1alpha1', '/openapi/v2']) {
      const res = await t.request(path, {}, 'viewer-token');
      await res.arrayBuffer();
      assert.equal(res.status, 200, path);
    }
  });
});
