import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Secret } from '../../api/core/secret/index.ts';
import type { Provider, ProviderSpec } from '../../api/kinds/provider/index.ts';
import { readTarget } from './target.ts';

const provider = (spec: Partial<ProviderSpec>): Provider => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'Provider',
  metadata: { name: 'p', namespace: 'team', uid: 'u' },
  spec: { type: 'generic', timeout: '15s', suspend: false, ...spec },
});
const secret = (data: Record<string, string>): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's', namespace: 'team' },
  type: 'Opaque',
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});
const problems = (p: Provider, found?: Secret) => {
  const read = readTarget(p, () => found);
  return read.ok ? [] : read.problems.map((x) => `${x.reason}: ${x.message}`);
};

describe('readTarget', () => {
  it('takes the address, token and headers from the Secret, its address winning', () => {
    const read = readTarget(
      provider({ type: 'github', address: 'https://github.com/a/b', secretRef: { name: 's' } }),
      () => secret({ address: 'https://github.com/acme/apis', token: 't', headers: 'X-Team: apis\n' }),
    );
    assert.ok(read.ok);
    assert.equal(read.target.address.href, 'https://github.com/acme/apis');
    assert.equal(read.target.token, 't');
    assert.deepEqual(read.target.headers, { 'X-Team': 'apis' });
  });

  it('names the field and the Secret of each problem, never a secret value', () => {
    assert.deepEqual(problems(provider({ secretRef: { name: 's' } })), [
      'SecretNotFound: spec.secretRef: Secret team/s not found',
      'AddressMissing: spec.address: empty, and Secret team/s has no address key',
    ]);
    const hook = 'ftp://hooks.example/T000/B000/SECRETPART';
    assert.deepEqual(
      problems(provider({ type: 'generic-hmac', secretRef: { name: 's' } }), secret({ address: hook })),
      [
        'InvalidAddress: spec.secretRef: Secret team/s address: not an http or https URL',
        'TokenMissing: spec.secretRef: generic-hmac needs a token, and Secret team/s has no token key',
      ],
    );
    assert.deepEqual(problems(provider({ type: 'gitlab', address: 'https://gitlab.example/' }), undefined), [
      'InvalidAddress: spec.address: gitlab needs the repository URL (https://HOST/OWNER/REPO)',
      'TokenMissing: spec.secretRef: gitlab needs a token, and no spec.secretRef',
    ]);
    const badHeaders = provider({ address: 'https://h.example', secretRef: { name: 's' } });
    assert.deepEqual(problems(badHeaders, secret({ headers: '- a list' })), [
      'InvalidHeaders: spec.secretRef: Secret team/s headers is not a YAML map of header names to strings',
    ]);
    const noCa = provider({ address: 'https://h.example', certSecretRef: { name: 's' } });
    assert.deepEqual(problems(noCa, secret({})), [
      'SecretNotFound: spec.certSecretRef: Secret team/s has no ca.crt key',
    ]);
  });
});
