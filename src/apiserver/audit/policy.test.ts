import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultAuditPolicy } from './default-policy.ts';
import { auditConfigFor, parseAuditPolicy, type AuditAttributes } from './policy.ts';

const alice = { name: 'alice', groups: ['devs', 'system:authenticated'] };

function request(attrs: Partial<AuditAttributes>): AuditAttributes {
  return {
    user: alice,
    verb: 'get',
    isResourceRequest: true,
    path: '/api/v1/namespaces/default/pods/p',
    group: '',
    resource: 'pods',
    namespace: 'default',
    name: 'p',
    ...attrs,
  };
}

function policy(rules: string, head = ''): ReturnType<typeof parseAuditPolicy> {
  return parseAuditPolicy(`apiVersion: audit.k8s.io/v1\nkind: Policy\n${head}rules:\n${rules}`, 'test');
}

const levelOf = (p: ReturnType<typeof policy>, attrs: Partial<AuditAttributes>) =>
  auditConfigFor(p, request(attrs)).level;

describe('audit policy', () => {
  it('takes the level of the first matching rule, and None when no rule matches', () => {
    const p = policy(`
  - level: RequestResponse
    users: [alice]
    verbs: [create]
  - level: Request
    users: [alice]
  - level: Metadata
    userGroups: [ops]
`);
    assert.equal(levelOf(p, { verb: 'create' }), 'RequestResponse');
    assert.equal(levelOf(p, { verb: 'get' }), 'Request', 'the first rule wants create');
    assert.equal(levelOf(p, { user: { name: 'bob', groups: ['ops'] } }), 'Metadata');
    assert.equal(levelOf(p, { user: { name: 'bob', groups: ['devs'] } }), 'None');
    assert.equal(levelOf(p, { user: undefined }), 'None', 'a refused request has no user to match');
  });

  it('matches resources by group, resource/subresource, wildcards and resourceNames', () => {
    const p = policy(`
  - level: RequestResponse
    resources:
      - group: gatehouse.dev
        resources: [apidefinitions/status]
  - level: Request
    resources:
      - group: ""
        resources: ["*/status"]
  - level: Metadata
    resources:
      - group: ""
        resources: [configmaps/*]
  - level: Request
    resources:
      - group: ""
        resources: [secrets]
        resourceNames: [deploy-key]
  - level: Metadata
    resources:
      - group: apps
`);
    const api = { group: 'gatehouse.dev', resource: 'apidefinitions', name: 'shop' };
    assert.equal(levelOf(p, { ...api, subresource: 'status' }), 'RequestResponse');
    assert.equal(levelOf(p, api), 'None', 'apidefinitions/status does not name the object itself');
    assert.equal(levelOf(p, { subresource: 'status' }), 'Request', "*/status: any core resource's status");
    assert.equal(levelOf(p, { resource: 'configmaps', subresource: 'x' }), 'Metadata');
    assert.equal(levelOf(p, { resource: 'configmaps' }), 'Metadata', 'configmaps/* matches the resource itself too');
    assert.equal(levelOf(p, { resource: 'secrets', name: 'deploy-key' }), 'Request');
    assert.equal(levelOf(p, { resource: 'secrets', name: 'other' }), 'None');
    const deployments = { group: 'apps', resource: 'deployments' };
    assert.equal(levelOf(p, deployments), 'Metadata', 'a group without resources is all of it');
  });

  it('matches namespaces, "" being cluster scope, and only resource requests', () => {
    const p = policy(`
  - level: Request
    namespaces: [team-a]
  - level: Metadata
    namespaces: [""]
`);
    assert.equal(levelOf(p, { namespace: 'team-a' }), 'Request');
    assert.equal(levelOf(p, { namespace: undefined, resource: 'namespaces' }), 'Metadata');
    assert.equal(levelOf(p, { namespace: 'team-b' }), 'None');
    assert.equal(levelOf(p, { isResourceRequest: false, path: '/apis', namespace: undefined }), 'None');
  });

  it('matches nonResourceURLs by path or prefix, never a resource request', () => {
    const p = policy(`
  - level: None
    nonResourceURLs: [/healthz*]
  - level: Metadata
    nonResourceURLs: [/apis, /openapi/*]
  - level: Request
`);
    const path = (p2: string) => ({
      isResourceRequest: false,
      path: p2,
      group: '',
      resource: '',
      namespace: undefined,
    });
    assert.equal(levelOf(p, path('/healthz/ping')), 'None');
    assert.equal(levelOf(p, path('/apis')), 'Metadata');
    assert.equal(levelOf(p, path('/apis/gatehouse.dev')), 'Request', '/apis is a path, not a prefix');
    assert.equal(levelOf(p, path('/openapi/v3')), 'Metadata');
    assert.equal(levelOf(p, { path: '/healthz' }), 'Request', 'a resource request never matches nonResourceURLs');
  });

  it("adds a rule's omitStages to the policy's; a rule's omitManagedFields overrides the policy's", () => {
    const p = policy(
      `
  - level: Request
    verbs: [watch]
    omitStages: [ResponseStarted]
    omitManagedFields: false
  - level: Metadata
`,
      'omitStages: [RequestReceived]\nomitManagedFields: true\n',
    );
    assert.deepEqual(auditConfigFor(p, request({ verb: 'watch' })), {
      level: 'Request',
      omitStages: ['RequestReceived', 'ResponseStarted'],
      omitManagedFields: false,
    });
    assert.deepEqual(auditConfigFor(p, request({})), {
      level: 'Metadata',
      omitStages: ['RequestReceived'],
      omitManagedFields: true,
    });
  });

  it('refuses a policy that kube-apiserver refuses, and unknown fields, naming file and field', () => {
    const bad = (rules: string) =>
      assert.throws(
        () => policy(rules),
        (err: Error) => {
          assert.match(err.message, /^audit policy test: /);
          return true;
        },
      );
    bad('  - level: Everything\n');
    bad('  - level: Metadata\n    resources: [{group: ""}]\n    nonResourceURLs: [/apis]\n');
    bad('  - level: Metadata\n    resources: [{group: "", resourceNames: [x]}]\n');
    bad('  - level: Metadata\n    nonResourceURLs: [apis]\n');
    bad('  - level: Metadata\n    omitStages: [Done]\n');
    assert.throws(
      () => policy('  - level: Metadata\n    resource: [{group: ""}]\n'),
      /rules\[0\]\.resource: unknown field/,
    );
    assert.throws(
      () => parseAuditPolicy('kind: Policy\nrules: []\n', 'p.yaml'),
      /audit policy p\.yaml: apiVersion: must be "audit\.k8s\.io\/v1"/,
    );
  });
});

describe('the default audit policy', () => {
  const core = (resource: string, verb: string, subresource?: string) =>
    levelOf(defaultAuditPolicy, { resource, verb, subresource });
  const gatehouse = (resource: string, verb: string) =>
    levelOf(defaultAuditPolicy, { group: 'gatehouse.dev', resource, verb });

  it('records reads and Secrets at Metadata, writes to Gatehouse kinds at RequestResponse', () => {
    assert.equal(core('secrets', 'create'), 'Metadata');
    assert.equal(core('secrets', 'patch'), 'Metadata');
    assert.equal(core('serviceaccounts', 'create', 'token'), 'Metadata');
    assert.equal(gatehouse('apidefinitions', 'get'), 'Metadata');
    assert.equal(gatehouse('apidefinitions', 'watch'), 'Metadata');
    assert.equal(gatehouse('apikeys', 'create'), 'RequestResponse');
    assert.equal(gatehouse('syncs', 'delete'), 'RequestResponse');
    const binding = { group: 'rbac.authorization.k8s.io', resource: 'rolebindings', verb: 'create' };
    assert.equal(levelOf(defaultAuditPolicy, binding), 'RequestResponse');
    assert.equal(core('configmaps', 'update'), 'Request');
    const counters = {
      group: 'gatehouse.dev',
      resource: 'counters',
      verb: 'create',
      namespace: undefined,
      name: undefined,
    };
    const gateway = { name: 'system:serviceaccount:gatehouse-system:gatehouse-gateway', groups: [] };
    assert.equal(levelOf(defaultAuditPolicy, { ...counters, user: gateway }), 'None', "a gateway's exchanges");
    const tokenFileGateway = { name: 'g', groups: ['gatehouse:gateways'] };
    assert.equal(levelOf(defaultAuditPolicy, { ...counters, user: tokenFileGateway }), 'None');
    assert.equal(levelOf(defaultAuditPolicy, counters), 'Metadata', 'anyone else adding to counters');
    assert.equal(auditConfigFor(defaultAuditPolicy, request({})).omitStages.includes('RequestReceived'), true);
  });
});
