// The authentication flags of `gatehouse apiserver` as kube-apiserver's, and the ServiceAccount keys
// they stand for: the signing key made once under the data directory, retired keys still verifying.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureServiceAccountSigningKey } from '../apiserver/auth/service-account/keys.ts';
import {
  addAuthenticationOptions,
  authenticationOf,
  DEFAULT_ISSUER,
  type AuthenticationFlags,
} from './authentication-options.ts';

test('flags: kube-apiserver names, --service-account-key-file repeatable, the issuer defaulted', () => {
  const command = addAuthenticationOptions(new Command('apiserver')).exitOverride();
  command.parse(
    [
      '--client-ca-file',
      'ca.crt',
      '--service-account-key-file',
      'old.pub',
      '--service-account-key-file',
      'older.pub',
      '--service-account-signing-key-file',
      'new.key',
    ],
    { from: 'user' },
  );
  assert.deepEqual(command.opts<AuthenticationFlags>(), {
    clientCaFile: 'ca.crt',
    serviceAccountKeyFile: ['old.pub', 'older.pub'],
    serviceAccountSigningKeyFile: 'new.key',
    serviceAccountIssuer: DEFAULT_ISSUER,
  });
});

test('the signing key is made once under the data directory; retired keys verify beside it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-authn-options-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const first = (await authenticationOf(dir)).serviceAccountTokens!;
  const keyFile = join(dir, 'service-account', 'service-account.key');
  const pem = await readFile(keyFile, 'utf8');
  const again = (await authenticationOf(dir)).serviceAccountTokens!;
  assert.equal(await readFile(keyFile, 'utf8'), pem, 'kept across starts');
  assert.equal(again.keys.signing.kid, first.keys.signing.kid);
  assert.equal(first.issuer, DEFAULT_ISSUER);

  const next = await ensureServiceAccountSigningKey(join(dir, 'next'));
  const rotated = await authenticationOf(dir, {
    serviceAccountSigningKeyFile: next,
    serviceAccountKeyFile: [keyFile],
    serviceAccountIssuer: 'https://gatehouse.example',
    clientCaFile: 'ca.crt',
  });
  const tokens = rotated.serviceAccountTokens!;
  assert.notEqual(tokens.keys.signing.kid, first.keys.signing.kid);
  assert.deepEqual(
    tokens.keys.verification.map((k) => k.kid),
    [tokens.keys.signing.kid, first.keys.signing.kid],
  );
  assert.equal(tokens.issuer, 'https://gatehouse.example');
  assert.equal(rotated.clientCaFile, 'ca.crt');
});
