// Impersonation and the access review APIs of authorization.k8s.io/v1 against a real API server: real
// kubectl (`auth can-i`, `--as`, `--as-group`), raw requests for kube's 403 bodies, and the Python client.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { eventually } from './support/eventually.ts';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

// alice has no rights; vera is a viewer, who may read but not impersonate.
const TOKENS = ['alice-token,alice,alice-uid', 'vera-token,vera,vera-uid,"gatehouse:viewers"'];

const SELF_REVIEW = `
import json, sys
from kubernetes import client, config

config.load_kube_config(config_file=sys.argv[1])
api = client.AuthorizationV1Api()
answers = []
for verb in ["list", "delete"]:
    attributes = client.V1ResourceAttributes(
        verb=verb, group="gatehouse.dev", resource="apidefinitions", namespace="default")
    spec = client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
    review = api.create_self_subject_access_review(client.V1SelfSubjectAccessReview(spec=spec), _request_timeout=30)
    answers.append([review.kind, verb, review.status.allowed])
print(json.dumps(answers))
`;

// vera may impersonate the user bob, and any ServiceAccount of namespace team-b.
const IMPERSONATION_GRANTS = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: impersonate-bob}
rules: [{apiGroups: [""], resources: [users], resourceNames: [bob], verbs: [impersonate]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: vera-as-bob}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonate-bob}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: vera}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: impersonate-sa, namespace: team-b}
rules: [{apiGroups: [""], resources: [serviceaccounts], verbs: [impersonate]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: vera-as-sa, namespace: team-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: impersonate-sa}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: vera}]
`;

const AUTHORIZATION = '/apis/authorization.k8s.io/v1';
const JSON_CONTENT = { 'content-type': 'application/json' };
const KUBE_IMPERSONATION_REFUSED =
  'users "bob" is forbidden: User "vera" cannot impersonate resource "users" in API group "" at the cluster scope';

// kubectl prints yes or no, then the authorizer's reason when it gives one.
const answer = (r: { code: number; stdout: string }) => [r.code, r.stdout.trim().split(' ')[0]];

describe('impersonation and access reviews', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer('memory', { tokens: TOKENS });
  });
  after(async () => {
    await t.stop();
  });

  const post = (path: string, body: unknown, token?: string) =>
    t.request(path, { method: 'POST', headers: JSON_CONTENT, body: JSON.stringify(body) }, token);
  const get = (path: string, headers: Record<string, string>, token?: string) => t.request(path, { headers }, token);
  const messageOf = async (response: Response) => ((await response.json()) as { message: string }).message;

  it('kubectl auth can-i answers for the caller, and with --as / --as-group for the user impersonated', async () => {
    const canI = async (...args: string[]) => answer(await t.kubectlResult(['auth', 'can-i', ...args]));
    assert.deepEqual(await canI('create', 'apidefinitions'), [0, 'yes']);
    assert.deepEqual(await canI('create', 'apidefinitions', '--as', 'alice'), [1, 'no']);
    const asViewer = ['--as', 'bob', '--as-group', 'gatehouse:viewers'];
    assert.deepEqual(await canI('list', 'apidefinitions', ...asViewer), [0, 'yes']);
    assert.deepEqual(await canI('delete', 'apidefinitions', ...asViewer), [1, 'no']);
    assert.deepEqual(await canI('delete', 'apidefinitions', '--token', 'vera-token'), [1, 'no']);
    // A path is a non-resource question: discovery is every authenticated user's.
    assert.deepEqual(await canI('get', '/apis', '--token', 'vera-token'), [0, 'yes']);
    assert.deepEqual(await canI('get', '/not-served', '--token', 'vera-token'), [1, 'no']);
  });

  it("a request with --as acts as the user impersonated: allowed or refused by that user's rights", async () => {
    const viewer = await t.kubectlResult(['get', 'apis', '--as', 'bob', '--as-group', 'gatehouse:viewers']);
    assert.equal(viewer.code, 0, viewer.stderr);
    const alice = await t.kubectlResult(['get', 'apis', '--as', 'alice']);
    assert.equal(alice.code, 1);
    const refusal =
      'Error from server (Forbidden): apidefinitions.gatehouse.dev is forbidden: User "alice" cannot ' +
      'list resource "apidefinitions" in API group "gatehouse.dev" in the namespace "default"';
    assert.ok(alice.stderr.includes(refusal), alice.stderr);
    // The groups sent are the whole list: a viewer impersonated may not write.
    const create = await t.kubectlResult(['create', 'namespace', 'team-a', '--as=bob', '--as-group=gatehouse:viewers']);
    assert.equal(create.code, 1);
    assert.match(
      create.stderr,
      /namespaces is forbidden: User "bob" cannot create resource "namespaces" in API group "" at the cluster scope/,
    );
  });

  it("without the impersonate right a user is refused with kube's 403, naming what is refused", async () => {
    const refused = await t.kubectlResult(['--token', 'vera-token', 'get', 'apis', '--as', 'bob']);
    assert.equal(refused.code, 1);
    assert.ok(refused.stderr.includes(`Error from server (Forbidden): ${KUBE_IMPERSONATION_REFUSED}`), refused.stderr);

    const response = await get(
      '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions',
      { 'impersonate-user': 'bob' },
      'vera-token',
    );
    assert.equal(response.status, 403);
    const { message, ...status } = (await response.json()) as { message: string };
    // After kube's message, the authorizer may say why.
    assert.ok(message.startsWith(KUBE_IMPERSONATION_REFUSED), message);
    assert.deepEqual(status, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'Forbidden',
      details: { name: 'bob', group: '', kind: 'users' },
      code: 403,
    });

    const serviceAccount = { 'impersonate-user': 'system:serviceaccount:team-a:deployer' };
    const asServiceAccount = await get('/api/v1/namespaces', serviceAccount, 'vera-token');
    assert.equal(asServiceAccount.status, 403);
    const kubeMessage =
      'serviceaccounts "deployer" is forbidden: User "vera" cannot impersonate resource ' +
      '"serviceaccounts" in API group "" in the namespace "team-a"';
    assert.ok((await messageOf(asServiceAccount)).startsWith(kubeMessage));

    // Impersonating oneself with more groups is impersonation too.
    const masters = { 'impersonate-user': 'vera', 'impersonate-group': 'system:masters' };
    const asMaster = await get('/api/v1/namespaces', masters, 'vera-token');
    assert.equal(asMaster.status, 403);
  });

  it('RBAC grants impersonation by name, and of ServiceAccounts by namespace', async () => {
    const asVera = ['--token', 'vera-token'];
    await t.kubectl(['create', 'namespace', 'team-b']);
    await t.kubectl(['apply', '-f', '-'], IMPERSONATION_GRANTS);

    // bob may be impersonated now; what the request then may do is bob's to have (nothing).
    const asBob = await eventually(async () => {
      const r = await t.kubectlResult([...asVera, 'get', 'apis', '--as', 'bob']);
      assert.match(r.stderr, /User "bob" cannot list resource "apidefinitions"/);
      return r;
    });
    assert.equal(asBob.code, 1);
    const asCarol = await t.kubectlResult([...asVera, 'get', 'apis', '--as', 'carol']);
    assert.match(asCarol.stderr, /users "carol" is forbidden: User "vera" cannot impersonate resource "users"/);
    // The impersonated user keeps the groups sent, each impersonated on its own.
    const withGroup = await t.kubectlResult([...asVera, 'get', 'apis', '--as=bob', '--as-group=gatehouse:admins']);
    assert.match(
      withGroup.stderr,
      /groups "gatehouse:admins" is forbidden: User "vera" cannot impersonate resource "groups"/,
    );

    const deployer = await eventually(async () => {
      const r = await t.kubectlResult([
        ...asVera,
        'auth',
        'can-i',
        'list',
        'secrets',
        '-n',
        'team-b',
        '--as',
        'system:serviceaccount:team-b:deployer',
      ]);
      assert.doesNotMatch(r.stderr, /forbidden/);
      return r;
    });
    // A ServiceAccount impersonated has its groups, none of which may list Secrets.
    assert.deepEqual(answer(deployer), [1, 'no']);
    const elsewhere = await t.kubectlResult([
      ...asVera,
      'auth',
      'can-i',
      'list',
      'secrets',
      '-n',
      'team-c',
      '--as',
      'system:serviceaccount:team-c:deployer',
    ]);
    const refusal =
      'serviceaccounts "deployer" is forbidden: User "vera" cannot impersonate resource ' +
      '"serviceaccounts" in API group "" in the namespace "team-c"';
    assert.ok(elsewhere.stderr.includes(refusal), elsewhere.stderr);
  });

  it('the request acts as exactly the identity impersonated (kubectl auth whoami)', async () => {
    type Whoami = { status: { userInfo: Record<string, unknown> } };
    const whoami = async (...args: string[]) =>
      (JSON.parse(await t.kubectl(['auth', 'whoami', '-o', 'json', ...args])) as Whoami).status.userInfo;
    assert.deepEqual(await whoami('--as', 'bob', '--as-group', 'devs', '--as-uid', '42'), {
      username: 'bob',
      uid: '42',
      groups: ['devs', 'system:authenticated'],
    });
    assert.deepEqual(await whoami('--as', 'system:serviceaccount:team-b:deployer'), {
      username: 'system:serviceaccount:team-b:deployer',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-b', 'system:authenticated'],
    });
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
    const extras = await t.request('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST',
      headers: { ...JSON_CONTENT, 'impersonate-user': 'bob', 'impersonate-extra-example.com%2fscopes': 'view' },
      body: JSON.stringify(review),
    });
    assert.equal(extras.status, 201);
    assert.deepEqual(((await extras.json()) as Whoami).status.userInfo.extra, { 'example.com/scopes': ['view'] });
  });

  it('impersonating groups, a uid or extras without a user is a bad request', async () => {
    const response = await get('/api/v1/namespaces', { 'impersonate-group': 'system:masters' });
    assert.equal(response.status, 400);
    const status = (await response.json()) as { reason: string; message: string };
    assert.equal(status.reason, 'BadRequest');
    assert.match(status.message, /requested group "system:masters" without impersonating a user/);
  });

  it('SubjectAccessReview and LocalSubjectAccessReview answer for the subject in spec', async () => {
    const question = { verb: 'list', group: 'gatehouse.dev', resource: 'apidefinitions', namespace: 'default' };
    const review = (kind: string, spec: object) => ({ apiVersion: 'authorization.k8s.io/v1', kind, spec });
    const viewerSpec = { user: 'bob', groups: ['gatehouse:viewers'], resourceAttributes: question };
    const viewer = await post(`${AUTHORIZATION}/subjectaccessreviews`, review('SubjectAccessReview', viewerSpec));
    assert.equal(viewer.status, 201);
    const answered = (await viewer.json()) as { spec: unknown; status: { allowed: boolean; reason: string } };
    assert.equal(answered.status.allowed, true);
    assert.match(answered.status.reason, /ClusterRole "gatehouse:view"/);
    assert.deepEqual(answered.spec, viewerSpec);

    const aliceSpec = { user: 'alice', resourceAttributes: { ...question, verb: 'delete' } };
    const alice = await post(`${AUTHORIZATION}/subjectaccessreviews`, review('SubjectAccessReview', aliceSpec));
    assert.equal(((await alice.json()) as { status: { allowed: boolean } }).status.allowed, false);

    const local = await post(
      `${AUTHORIZATION}/namespaces/default/localsubjectaccessreviews`,
      review('LocalSubjectAccessReview', viewerSpec),
    );
    assert.equal(local.status, 201);
    assert.equal(((await local.json()) as { status: { allowed: boolean } }).status.allowed, true);

    // A plain user may not ask about others.
    const asked = await post(
      `${AUTHORIZATION}/subjectaccessreviews`,
      review('SubjectAccessReview', viewerSpec),
      'alice-token',
    );
    assert.equal(asked.status, 403);
  });

  it('a review that is not one question about one subject is refused naming the field', async () => {
    const invalid = async (plural: string, kind: string, spec: unknown) => {
      const response = await post(`${AUTHORIZATION}/${plural}`, { apiVersion: 'authorization.k8s.io/v1', kind, spec });
      assert.equal(response.status, 422);
      const status = (await response.json()) as { details: { causes: Array<{ field: string }> } };
      return status.details.causes.map((c) => c.field);
    };
    const sar = (spec: unknown) => invalid('subjectaccessreviews', 'SubjectAccessReview', spec);
    assert.deepEqual(await sar({ user: 'bob' }), ['spec.resourceAttributes']);
    assert.deepEqual(await sar({ resourceAttributes: { verb: 'get' } }), ['spec.user']);
    const both = { user: 'bob', resourceAttributes: {}, nonResourceAttributes: {} };
    assert.deepEqual(await sar(both), ['spec.nonResourceAttributes']);
    const elsewhere = { user: 'bob', resourceAttributes: { verb: 'get', namespace: 'other' } };
    const local = 'namespaces/default/localsubjectaccessreviews';
    const namespaceField = ['spec.resourceAttributes.namespace'];
    assert.deepEqual(await invalid(local, 'LocalSubjectAccessReview', elsewhere), namespaceField);

    assert.equal((await t.request(`${AUTHORIZATION}/subjectaccessreviews`)).status, 405);
  });

  it('discovery lists the kinds of authorization.k8s.io with the create verb only', async () => {
    const names = async (verb: string) =>
      (await t.kubectl(['api-resources', '--api-group', 'authorization.k8s.io', '--verbs', verb, '-o', 'name'])).trim();
    assert.deepEqual((await names('create')).split('\n').sort(), [
      'localsubjectaccessreviews.authorization.k8s.io',
      'selfsubjectaccessreviews.authorization.k8s.io',
      'selfsubjectrulesreviews.authorization.k8s.io',
      'subjectaccessreviews.authorization.k8s.io',
    ]);
    assert.equal(await names('list'), '');
    assert.match(await t.kubectl(['explain', 'subjectaccessreviews.spec.resourceAttributes']), /subresource/);
  });

  it('the Python client asks with AuthorizationV1Api().create_self_subject_access_review', async () => {
    const kubeconfig = join(t.dir, 'vera.kubeconfig');
    const raw = await t.kubectl(['config', 'view', '--raw', '--flatten']);
    await writeFile(kubeconfig, raw.replace(/token: .*/, 'token: vera-token'));
    const out = await new Promise<string>((resolve, reject) => {
      execFile(PYTHON, ['-c', SELF_REVIEW, kubeconfig], { timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${PYTHON} failed: ${stderr || err.message}`));
        else resolve(stdout);
      });
    });
    const kind = 'SelfSubjectAccessReview';
    assert.deepEqual(JSON.parse(out), [
      [kind, 'list', true],
      [kind, 'delete', false],
    ]);
  });
});
