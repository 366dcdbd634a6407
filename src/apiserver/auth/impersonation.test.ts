// The impersonation filter's contract, with a policy that grants impersonation of named things and
// records every question it is asked.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors.ts';
import type { AuthorizationAttributes, Authorizer, UserInfo } from './auth.ts';
import { impersonate } from './impersonation.ts';

const alice: UserInfo = { name: 'alice', uid: 'alice-uid', groups: ['ops', 'system:authenticated'] };

/** Allows impersonating anything but what `refused` names as `resource/name`; remembers what was asked. */
function policy(...refused: string[]): Authorizer & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async authorize(attrs: AuthorizationAttributes) {
      const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
      const where = attrs.namespace ? ` in ${attrs.namespace}` : '';
      asked.push(`${attrs.user.name}: ${attrs.verb} ${attrs.group}/${resource}/${attrs.name}${where}`);
      return { allowed: !refused.includes(`${resource}/${attrs.name}`) };
    },
  };
}

/** A request as node parses it: each header's values, in order (Impersonate-Group may repeat). */
function request(headers: Record<string, string[]>): IncomingMessage {
  return { headersDistinct: headers } as unknown as IncomingMessage;
}

async function refusal(fn: () => Promise<unknown>): Promise<ApiError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail('expected an ApiError');
}

describe('impersonate', () => {
  it('leaves a request without impersonation headers to the authenticated user', async () => {
    const authorizer = policy();
    assert.deepEqual(await impersonate(request({}), alice, authorizer), { user: alice });
    assert.deepEqual(authorizer.asked, []);
  });

  it("asks for the user, each group, each extra value and the uid, in kube's order, as the sender", async () => {
    const authorizer = policy();
    const identity = await impersonate(
      request({
        'impersonate-user': ['bob'],
        'impersonate-group': ['devs', 'qa'],
        'impersonate-uid': ['1234'],
        'impersonate-extra-scopes': ['view', 'edit'],
        'impersonate-extra-example.com%2fteam': ['blue'],
      }),
      alice,
      authorizer,
    );
    assert.deepEqual(authorizer.asked, [
      'alice: impersonate /users/bob',
      'alice: impersonate /groups/devs',
      'alice: impersonate /groups/qa',
      'alice: impersonate authentication.k8s.io/userextras/scopes/view',
      'alice: impersonate authentication.k8s.io/userextras/scopes/edit',
      'alice: impersonate authentication.k8s.io/userextras/example.com/team/blue',
      'alice: impersonate authentication.k8s.io/uids/1234',
    ]);
    assert.deepEqual(identity, {
      user: {
        name: 'bob',
        uid: '1234',
        groups: ['devs', 'qa', 'system:authenticated'],
        extra: { scopes: ['view', 'edit'], 'example.com/team': ['blue'] },
      },
      impersonator: alice,
    });
  });

  it('makes a ServiceAccount user a serviceaccounts question in its namespace, with its groups', async () => {
    const authorizer = policy();
    const deployer = 'system:serviceaccount:team-a:deployer';
    const { user } = await impersonate(request({ 'impersonate-user': [deployer] }), alice, authorizer);
    assert.deepEqual(authorizer.asked, ['alice: impersonate /serviceaccounts/deployer in team-a']);
    assert.deepEqual(user.groups, ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated']);
    // Groups sent replace the ServiceAccount's.
    const withGroups = await impersonate(
      request({ 'impersonate-user': [deployer], 'impersonate-group': ['devs'] }),
      alice,
      policy(),
    );
    assert.deepEqual(withGroups.user.groups, ['devs', 'system:authenticated']);
    // Not a ServiceAccount name: a plain user.
    const odd = policy();
    await impersonate(request({ 'impersonate-user': ['system:serviceaccount:only-one-part'] }), alice, odd);
    assert.deepEqual(odd.asked, ['alice: impersonate /users/system:serviceaccount:only-one-part']);
  });

  it('keeps system:unauthenticated when sent, and makes system:anonymous unauthenticated', async () => {
    const sent = await impersonate(
      request({ 'impersonate-user': ['bob'], 'impersonate-group': ['system:unauthenticated'] }),
      alice,
      policy(),
    );
    assert.deepEqual(sent.user.groups, ['system:unauthenticated']);
    const anonymous = await impersonate(request({ 'impersonate-user': ['system:anonymous'] }), alice, policy());
    assert.deepEqual(anonymous.user.groups, ['system:unauthenticated']);
  });

  it("stops at the first refusal with kube's 403 naming it", async () => {
    const authorizer = policy('groups/system:masters');
    const err = await refusal(() =>
      impersonate(
        request({ 'impersonate-user': ['bob'], 'impersonate-group': ['system:masters', 'devs'] }),
        alice,
        authorizer,
      ),
    );
    assert.equal(err.code, 403);
    assert.equal(
      err.message,
      'groups "system:masters" is forbidden: User "alice" cannot impersonate resource ' +
        '"groups" in API group "" at the cluster scope',
    );
    assert.equal(authorizer.asked.length, 2);

    const scopes = { 'impersonate-user': ['bob'], 'impersonate-extra-scopes': ['admin'] };
    const extra = await refusal(() => impersonate(request(scopes), alice, policy('userextras/scopes/admin')));
    assert.equal(
      extra.message,
      'userextras.authentication.k8s.io "admin" is forbidden: User "alice" cannot ' +
        'impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope',
    );
  });

  it('refuses groups, a uid or extras without a user as a bad request, asking nothing', async () => {
    const authorizer = policy();
    const headers = { 'impersonate-uid': ['1234'], 'impersonate-extra-scopes': ['view'] };
    const err = await refusal(() => impersonate(request(headers), alice, authorizer));
    assert.equal(err.code, 400);
    assert.match(err.message, /requested uid "1234", extra "scopes" without impersonating a user/);
    assert.deepEqual(authorizer.asked, []);
  });
});
