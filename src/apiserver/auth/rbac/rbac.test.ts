// RBAC below HTTP, on a real registry over memory storage: the bootstrap policy, the index fed by watch,
// aggregation kept up to date, the authorizer's decisions and the escalation check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../../../api/kinds.ts';
import type { ClusterRole, RoleBinding } from '../../../api/rbac/types.ts';
import { openStorage } from '../../../storage/open.ts';
import { ApiError } from '../../errors.ts';
import { Registry } from '../../registry/registry.ts';
import type { UserInfo } from '../auth.ts';
import { privilegedGroups, unionAuthorizer } from '../authorizer-union.ts';
import { aggregatedRules, matchesSelector } from './aggregation.ts';
import { eventually } from '../../../../test/support/eventually.ts';
import { startRbac, type Rbac } from './rbac.ts';

const WRITE = { dryRun: false, fieldValidation: 'Strict' as const };
const RBAC = 'rbac.authorization.k8s.io';

async function setup(t: { after(fn: () => unknown): void }): Promise<{ registry: Registry; rbac: Rbac }> {
  const storage = await openStorage('memory');
  const registry = new Registry(allKinds, storage);
  await registry.bootstrap();
  const rbac = await startRbac(registry, (err) => assert.fail(String(err)));
  t.after(async () => {
    rbac.close();
    registry.close();
    await storage.close();
  });
  return { registry, rbac };
}

const user = (name: string, ...groups: string[]): UserInfo => ({
  name,
  uid: name,
  groups: [...groups, 'system:authenticated'],
});
const aggregating = (name: string, labels: Record<string, string>): ClusterRole => ({
  ...clusterRole(name, []),
  aggregationRule: { clusterRoleSelectors: [{ matchLabels: labels }] },
});
const AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';

const clusterRole = (name: string, rules: ClusterRole['rules'], labels?: Record<string, string>): ClusterRole => ({
  apiVersion: `${RBAC}/v1`,
  kind: 'ClusterRole',
  metadata: { name, labels },
  rules,
});

const bindingTo = (kind: 'Role' | 'ClusterRole', role: string, subject: string, namespace?: string): RoleBinding => ({
  apiVersion: `${RBAC}/v1`,
  kind: namespace ? 'RoleBinding' : 'ClusterRoleBinding',
  metadata: { name: `${subject}-${role}`, namespace },
  roleRef: { apiGroup: RBAC, kind, name: role },
  subjects: [{ kind: 'User', apiGroup: RBAC, name: subject }],
});

test('label selectors and aggregated rules as kube: matching roles in name order, each rule once', () => {
  assert.equal(matchesSelector({ matchLabels: { a: 'x' } }, { a: 'x', b: 'y' }), true);
  assert.equal(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: ['y'] }] }, { a: 'x' }), false);
  assert.equal(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, {}), true);
  const read = { verbs: ['get'], apiGroups: [''], resources: ['configmaps'] };
  const write = { verbs: ['create'], apiGroups: [''], resources: ['configmaps'] };
  const aggregate = aggregating('all', { agg: 'true' });
  const labelled = { agg: 'true' };
  const roles = [
    clusterRole('b', [write, read], labelled),
    clusterRole('a', [read], labelled),
    clusterRole('c', [write]),
    aggregate,
  ];
  assert.deepEqual(aggregatedRules(aggregate, roles), [read, write]);
});

test('the bootstrap policy is stored at start, reconciled again and kept when its autoupdate is "false"', async (t) => {
  const { registry, rbac } = await setup(t);
  const roles = registry.store(RBAC, 'clusterroles')!;
  const view = await roles.get('', 'gatehouse:view');
  assert.equal(view.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
  assert.equal(view.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'], 'true');
  const bindings = registry.store(RBAC, 'clusterrolebindings')!;
  const viewers = (await bindings.get('', 'gatehouse:viewers')) as RoleBinding;
  assert.deepEqual(viewers.roleRef, { apiGroup: RBAC, kind: 'ClusterRole', name: 'gatehouse:view' });
  // A rule taken away comes back at the next start, an added one stays; an opted-out role is left alone.
  const extra = { verbs: ['get'], apiGroups: [''], resources: ['pods'] };
  await roles.update('', 'gatehouse:view', { ...view, rules: [extra] }, WRITE);
  const edit = await roles.get('', 'gatehouse:edit');
  const annotations = { 'rbac.authorization.kubernetes.io/autoupdate': 'false' };
  const optedOut = { ...edit, metadata: { ...edit.metadata, annotations }, rules: [extra] };
  await roles.update('', 'gatehouse:edit', optedOut, WRITE);
  rbac.close();
  const again = await startRbac(registry, (err) => assert.fail(String(err)));
  again.close();
  const reconciled = (await roles.get('', 'gatehouse:view')) as ClusterRole;
  assert.deepEqual(reconciled.rules, [extra, ...(view as ClusterRole).rules!]);
  assert.deepEqual(((await roles.get('', 'gatehouse:edit')) as ClusterRole).rules, [extra]);
});

test('aggregated roles hold the rules of the labelled ClusterRoles, kept up to date as they change', async (t) => {
  const { registry, rbac } = await setup(t);
  const roles = registry.store(RBAC, 'clusterroles')!;
  const rulesOf = async (name: string) => ((await roles.get('', name)) as ClusterRole).rules ?? [];
  // kube's view holds gatehouse:view's rules; edit holds view's.
  await eventually(async () => assert.deepEqual(await rulesOf('view'), await rulesOf('gatehouse:view')));
  await eventually(async () => assert.ok((await rulesOf('edit')).length > (await rulesOf('view')).length));
  const widgets = { verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] };
  const added = await roles.create('', clusterRole('widgets-view', [widgets], { [AGGREGATE_TO_VIEW]: 'true' }), WRITE);
  await eventually(async () => assert.deepEqual((await rulesOf('view')).at(-1), widgets));
  const alice = user('alice');
  await registry.store(RBAC, 'clusterrolebindings')!.create('', bindingTo('ClusterRole', 'view', 'alice'), WRITE);
  const allowed = async (verb: string, resource: string) =>
    (await rbac.authorizer.authorize({ user: alice, verb, group: 'example.com', resource })).allowed;
  await eventually(async () => assert.equal(await allowed('get', 'widgets'), true));
  const gadgets = { verbs: ['list'], apiGroups: ['example.com'], resources: ['gadgets'] };
  await roles.update('', 'widgets-view', { ...added.object, rules: [gadgets] }, WRITE);
  await eventually(async () => assert.equal(await allowed('list', 'gadgets'), true));
  assert.equal(await allowed('get', 'widgets'), false);
  await roles.delete('', 'widgets-view', {}, WRITE);
  await eventually(async () => assert.equal(await allowed('list', 'gadgets'), false));
});

test('the authorizer answers from bindings of users, groups and service accounts, per namespace too', async (t) => {
  const { registry, rbac } = await setup(t);
  const authorize = (u: UserInfo, verb: string, resource: string, namespace?: string) =>
    rbac.authorizer.authorize({ user: u, verb, group: '', resource, namespace });
  const viewer = user('vera', 'gatehouse:viewers');
  assert.equal((await authorize(viewer, 'list', 'configmaps', 'default')).allowed, true);
  assert.match(
    (await authorize(viewer, 'list', 'configmaps')).reason!,
    /ClusterRoleBinding "gatehouse:viewers" of ClusterRole "gatehouse:view"/,
  );
  assert.deepEqual(await authorize(viewer, 'get', 'secrets', 'default'), { allowed: false });
  const roles = registry.store(RBAC, 'roles')!;
  await roles
    .create(
      'team',
      {
        apiVersion: `${RBAC}/v1`,
        kind: 'Role',
        metadata: { name: 'secrets', namespace: 'team' },
        rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }],
      },
      WRITE,
    )
    .catch((err: ApiError) => {
      assert.equal(err.reason, 'NotFound');
    });
  const team = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } };
  await registry.store('', 'namespaces')!.create('', team, WRITE);
  await roles.create(
    'team',
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { name: 'secrets', namespace: 'team' },
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }],
    },
    WRITE,
  );
  const robotSubject = { kind: 'ServiceAccount' as const, name: 'robot' };
  const sa = { ...bindingTo('Role', 'secrets', 'x', 'team'), subjects: [robotSubject] };
  await registry.store(RBAC, 'rolebindings')!.create('team', sa, WRITE);
  const robot = user('system:serviceaccount:team:robot', 'system:serviceaccounts');
  await eventually(async () => assert.equal((await authorize(robot, 'get', 'secrets', 'team')).allowed, true));
  assert.equal((await authorize(robot, 'get', 'secrets', 'default')).allowed, false);
  assert.equal((await authorize(user('system:serviceaccount:other:robot'), 'get', 'secrets', 'team')).allowed, false);
  // A binding to a role that does not exist grants nothing, and says so.
  await registry.store(RBAC, 'rolebindings')!.create('team', bindingTo('Role', 'missing', 'bob', 'team'), WRITE);
  await eventually(async () =>
    assert.deepEqual(await authorize(user('bob'), 'get', 'secrets', 'team'), {
      allowed: false,
      reason: 'RBAC: role.rbac.authorization.k8s.io "missing" not found',
    }),
  );
});

test('escalation: a role granting more than its author holds, or binding it, needs escalate or bind', async (t) => {
  const { registry, rbac } = await setup(t);
  const authorizer = unionAuthorizer(privilegedGroups('system:masters'), rbac.authorizer);
  const check = rbac.escalationCheck(authorizer);
  const crbs = registry.store(RBAC, 'clusterrolebindings')!;
  const clusterRoles = registry.store(RBAC, 'clusterroles')!;
  const def = (plural: string) => registry.store(RBAC, plural)!.def;
  const admin = user('ada', 'gatehouse:admins');
  const editor = user('ed');
  await crbs.create('', bindingTo('ClusterRole', 'gatehouse:edit', 'ed'), WRITE);
  const secretsRole = {
    apiVersion: `${RBAC}/v1`,
    kind: 'Role',
    metadata: { name: 'r', namespace: 'default' },
    rules: [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'] },
      { verbs: ['delete'], apiGroups: [''], resources: ['namespaces'] },
    ],
  };
  const editorReadsSecrets = () => authorizer.authorize({ user: editor, verb: 'get', group: '', resource: 'secrets' });
  await eventually(async () => assert.equal((await editorReadsSecrets()).allowed, true));
  const refused = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      assert.ok(err instanceof ApiError && err.reason === 'Forbidden', String(err));
      return err.message;
    }
    return assert.fail('not refused');
  };
  assert.equal(
    await refused(() => check.admit({ user: editor, def: def('roles'), obj: secretsRole })),
    'roles.rbac.authorization.k8s.io "r" is forbidden: user "ed" (groups=["system:authenticated"]) is attempting ' +
      'to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["namespaces"], Verbs:["delete"]}',
  );
  await check.admit({ user: admin, def: def('roles'), obj: secretsRole });
  await check.admit({ user: user('root', 'system:masters'), def: def('roles'), obj: secretsRole });
  // Holding `escalate` on roles is enough.
  const escalator = clusterRole('escalator', [{ verbs: ['escalate'], apiGroups: [RBAC], resources: ['roles'] }]);
  await clusterRoles.create('', escalator, WRITE);
  await crbs.create('', bindingTo('ClusterRole', 'escalator', 'ed'), WRITE);
  await eventually(() => check.admit({ user: editor, def: def('roles'), obj: secretsRole }));
  // Binding: cluster-admin is not held by the editor, gatehouse:view is.
  const binding = (role: string) => ({
    ...bindingTo('ClusterRole', role, 'someone', 'default'),
    metadata: { name: 'b', namespace: 'default' },
  });
  assert.match(
    await refused(() => check.admit({ user: editor, def: def('rolebindings'), obj: binding('cluster-admin') })),
    /^rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "ed" .* not currently held:\n/,
  );
  await check.admit({ user: editor, def: def('rolebindings'), obj: binding('gatehouse:view') });
  assert.equal(
    await refused(() => check.admit({ user: editor, def: def('rolebindings'), obj: binding('nothing') })),
    'rolebindings.rbac.authorization.k8s.io "b" is forbidden: ' +
      'clusterrole.rbac.authorization.k8s.io "nothing" not found',
  );
  // Holding `bind` on that one ClusterRole is enough to bind it.
  const bindClusterAdmin = {
    verbs: ['bind'],
    apiGroups: [RBAC],
    resources: ['clusterroles'],
    resourceNames: ['cluster-admin'],
  };
  await clusterRoles.create('', clusterRole('binder', [bindClusterAdmin]), WRITE);
  await crbs.create('', bindingTo('ClusterRole', 'binder', 'ed'), WRITE);
  await eventually(() => check.admit({ user: editor, def: def('rolebindings'), obj: binding('cluster-admin') }));
  // A label is checked too: it could enter cluster-admin into view's aggregation. Owners and finalizers are not.
  const clusterAdmin = await clusterRoles.get('', 'cluster-admin');
  const labelled = { ...clusterAdmin, metadata: { ...clusterAdmin.metadata, labels: { [AGGREGATE_TO_VIEW]: 'true' } } };
  const relabel = { user: user('ed2'), def: def('clusterroles'), obj: labelled, old: clusterAdmin };
  assert.match(
    await refused(() => check.admit(relabel)),
    /^clusterroles.rbac.authorization.k8s.io "cluster-admin" is forbidden: user "ed2" .* not currently held:\n/,
  );
  const finalized = { ...clusterAdmin, metadata: { ...clusterAdmin.metadata, finalizers: ['example.com/keep'] } };
  await check.admit({ user: user('ed2'), def: def('clusterroles'), obj: finalized, old: clusterAdmin });
  // An aggregation rule gathers anything: only who holds everything may set one.
  const aggregate = aggregating('agg', { x: 'y' });
  assert.match(
    await refused(() => check.admit({ user: user('ed2'), def: def('clusterroles'), obj: aggregate })),
    /must have cluster-admin privileges to use the aggregationRule/,
  );
});
