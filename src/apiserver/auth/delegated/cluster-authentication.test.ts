// The extension-apiserver-authentication ConfigMap read as kube-apiserver writes it (lists as JSON arrays),
// the flags overriding its keys, kube's defaults for the header names, and bad values named.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority } from '../../../../test/support/pki.ts';
import { alwaysAllowPaths } from './always-allow-paths.ts';
import { clusterAuthentication } from './cluster-authentication.ts';
import { extraKey } from './request-header.ts';
import { reviewSpec } from './subject-access-review.ts';

describe('the cluster authentication configuration', () => {
  let dir: string;
  let frontProxyCa: string;
  let clientCa: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-cluster-authentication-'));
    frontProxyCa = (await createCertificateAuthority(dir, 'front-proxy-ca')).cert;
    clientCa = (await createCertificateAuthority(dir, 'client-ca')).cert;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads the ConfigMap's CAs and JSON-array lists", () => {
    const config = clusterAuthentication(
      {},
      {
        'client-ca-file': clientCa,
        'requestheader-client-ca-file': frontProxyCa,
        'requestheader-allowed-names': '["front-proxy-client"]',
        'requestheader-username-headers': '["X-Remote-User"]',
        'requestheader-group-headers': '["X-Remote-Group"]',
        'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
      },
    );
    assert.deepEqual(
      config.clientCa.map((c) => c.subject),
      ['CN=client-ca'],
    );
    assert.deepEqual(
      config.requestHeader?.roots.map((c) => c.subject),
      ['CN=front-proxy-ca'],
    );
    assert.deepEqual(config.requestHeader?.allowedNames, ['front-proxy-client']);
    assert.deepEqual(config.requestHeader?.extraHeaderPrefixes, ['X-Remote-Extra-']);
  });

  it("lets each flag given replace the ConfigMap's key, and falls back to kube's header names", () => {
    const data = { 'requestheader-client-ca-file': clientCa, 'requestheader-allowed-names': '["a"]' };
    const config = clusterAuthentication(
      { requestHeaderCa: frontProxyCa, requestHeaderAllowedNames: [], requestHeaderGroupHeaders: ['X-Team'] },
      data,
    );
    assert.deepEqual(
      config.requestHeader?.roots.map((c) => c.subject),
      ['CN=front-proxy-ca'],
    );
    assert.deepEqual(config.requestHeader?.allowedNames, []);
    assert.deepEqual(config.requestHeader?.usernameHeaders, ['X-Remote-User']);
    assert.deepEqual(config.requestHeader?.groupHeaders, ['X-Team']);
    assert.deepEqual(config.clientCa, []);
  });

  it('trusts no front proxy without a request-header CA, and names a bad value', () => {
    assert.equal(clusterAuthentication({}, { 'requestheader-allowed-names': '["a"]' }).requestHeader, undefined);
    assert.throws(
      () =>
        clusterAuthentication(
          {},
          { 'requestheader-client-ca-file': frontProxyCa, 'requestheader-allowed-names': 'a,b' },
        ),
      /ConfigMap kube-system\/extension-apiserver-authentication: requestheader-allowed-names: "a,b" is not a JSON/,
    );
    assert.throws(
      () => clusterAuthentication({}, { 'client-ca-file': 'not a certificate' }),
      /extension-apiserver-authentication: client-ca-file: no PEM certificate in it/,
    );
  });
});

it('reads extra keys from header names lower-cased and percent-decoded, as kube', () => {
  assert.equal(extraKey('Scopes'), 'scopes');
  assert.equal(extraKey('Example.com%2FTeam'), 'example.com/team');
  assert.equal(extraKey('bad%zz'), 'bad%zz');
});

it('always allows the configured non-resource paths, a trailing * as a prefix, and nothing else', async () => {
  const paths = alwaysAllowPaths(['/healthz', '/metrics/*']);
  const user = { name: 'u', uid: '', groups: [] };
  const ask = (path: string, isResourceRequest = false) =>
    paths.authorize({ user, verb: 'get', isResourceRequest, path, group: '', resource: '' });
  assert.deepEqual(
    await Promise.all([ask('/healthz'), ask('/metrics/x'), ask('/healthz/x'), ask('/apis')]).then((d) =>
      d.map((x) => x.allowed),
    ),
    [true, true, false, false],
  );
});

it('asks SubjectAccessReview about what the request is, resource or path, with the whole user', () => {
  const user = { name: 'alice', uid: 'a1', groups: ['devs'], extra: { scopes: ['view'] } };
  assert.deepEqual(
    reviewSpec({
      user,
      verb: 'list',
      group: 'gatehouse.dev',
      resource: 'apidefinitions',
      namespace: 'team',
    }),
    {
      user: 'alice',
      uid: 'a1',
      groups: ['devs'],
      extra: { scopes: ['view'] },
      resourceAttributes: {
        namespace: 'team',
        verb: 'list',
        group: 'gatehouse.dev',
        resource: 'apidefinitions',
        subresource: undefined,
        name: undefined,
      },
    },
  );
  assert.deepEqual(
    reviewSpec({ user, verb: 'get', isResourceRequest: false, path: '/apis', group: '', resource: '' })
      .nonResourceAttributes,
    { path: '/apis', verb: 'get' },
  );
});
