import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyRule } from '../../../api/rbac/types.ts';
import type { AuthorizationAttributes } from '../auth.ts';
import { compactString, ruleAllows, uncovered } from './rules.ts';

const user = { name: 'ann', uid: 'u', groups: [] };
const request = (verb: string, group: string, resource: string, more: Partial<AuthorizationAttributes> = {}) =>
  ({ user, verb, group, resource, ...more }) as AuthorizationAttributes;

test('a rule matches verb, group, resource/subresource and names as kube-apiserver does', () => {
  const rule: PolicyRule = {
    verbs: ['get'],
    apiGroups: ['gatehouse.dev'],
    resources: ['apidefinitions', 'syncs/diff'],
  };
  assert.equal(ruleAllows(request('get', 'gatehouse.dev', 'apidefinitions'), rule), true);
  assert.equal(ruleAllows(request('list', 'gatehouse.dev', 'apidefinitions'), rule), false);
  assert.equal(ruleAllows(request('get', '', 'apidefinitions'), rule), false);
  // A rule on a resource does not reach its subresources; one on a subresource not its parent.
  assert.equal(ruleAllows(request('get', 'gatehouse.dev', 'apidefinitions', { subresource: 'status' }), rule), false);
  assert.equal(ruleAllows(request('get', 'gatehouse.dev', 'syncs', { subresource: 'diff' }), rule), true);
  assert.equal(ruleAllows(request('get', 'gatehouse.dev', 'syncs'), rule), false);
  const status: PolicyRule = { verbs: ['*'], apiGroups: ['*'], resources: ['*/status'] };
  assert.equal(ruleAllows(request('patch', 'x', 'syncs', { subresource: 'status' }), status), true);
  assert.equal(ruleAllows(request('patch', 'x', 'syncs', { subresource: 'diff' }), status), false);
  const named: PolicyRule = { verbs: ['get', 'update'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] };
  assert.equal(ruleAllows(request('get', '', 'secrets', { name: 'a' }), named), true);
  assert.equal(ruleAllows(request('get', '', 'secrets', { name: 'b' }), named), false);
  // A request without a name (list, create) is not one of the names.
  assert.equal(ruleAllows(request('get', '', 'secrets'), named), false);
});

test('non-resource rules match paths, a trailing * as a prefix, and never resource requests', () => {
  const rule: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/apis', '/apis/*'] };
  const path = (p: string, verb = 'get') => request(verb, '', '', { isResourceRequest: false, path: p });
  assert.equal(ruleAllows(path('/apis'), rule), true);
  assert.equal(ruleAllows(path('/apis/gatehouse.dev/v1alpha1'), rule), true);
  assert.equal(ruleAllows(path('/api'), rule), false);
  assert.equal(ruleAllows(path('/apis', 'post'), rule), false);
  assert.equal(ruleAllows(request('get', '', 'apis'), rule), false);
  assert.equal(ruleAllows(path('/metrics'), { verbs: ['*'], nonResourceURLs: ['*'] }), true);
});

test('covering: what the owner holds, broken down per verb, resource and name', () => {
  const owner: PolicyRule[] = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps', '*/status'] },
    { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a', 'b'] },
    { verbs: ['get'], nonResourceURLs: ['/apis/*'] },
  ];
  const core = (verbs: string[], resources: string[], resourceNames?: string[]): PolicyRule =>
    resourceNames ? { verbs, apiGroups: [''], resources, resourceNames } : { verbs, apiGroups: [''], resources };
  assert.deepEqual(uncovered(owner, [core(['get'], ['configmaps', 'pods/status'])]), []);
  assert.deepEqual(uncovered(owner, [core(['get'], ['secrets'], ['a'])]), []);
  assert.deepEqual(uncovered(owner, [{ verbs: ['get'], nonResourceURLs: ['/apis/x'] }]), []);
  assert.deepEqual(uncovered(owner, [core(['get', 'watch'], ['secrets', 'configmaps'])]), [
    { verbs: ['get'], apiGroups: [''], resources: ['secrets'] },
    { verbs: ['watch'], apiGroups: [''], resources: ['secrets'] },
    { verbs: ['watch'], apiGroups: [''], resources: ['configmaps'] },
  ]);
  const everyResource = { verbs: ['*'], apiGroups: ['*'], resources: ['*'] };
  assert.deepEqual(uncovered([everyResource], [{ verbs: ['get'], nonResourceURLs: ['/x'] }]), [
    { verbs: ['get'], nonResourceURLs: ['/x'] },
  ]);
});

test('rules print as kube prints them in a refusal', () => {
  assert.equal(
    compactString({ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }),
    '{APIGroups:[""], Resources:["secrets"], ResourceNames:["a"], Verbs:["get" "list"]}',
  );
  assert.equal(
    compactString({ verbs: ['get'], nonResourceURLs: ['/apis'] }),
    '{NonResourceURLs:["/apis"], Verbs:["get"]}',
  );
});
