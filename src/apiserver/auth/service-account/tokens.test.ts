// ServiceAccount tokens below HTTP, on a real registry over memory storage: issuer, audience and
// signature checks, and key rotation (a retired signing key kept as a verification key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allKinds } from '../../../api/kinds.ts';
import { openStorage } from '../../../storage/open.ts';
import { Registry } from '../../registry/registry.ts';
import { eventually } from '../../../../test/support/eventually.ts';
import { ServiceAccountUids } from './accounts.ts';
import { ensureServiceAccountSigningKey, loadServiceAccountKeys, parseVerificationKeys } from './keys.ts';
import { ServiceAccountTokens, type ServiceAccountRef } from './tokens.ts';

const ISSUER = 'https://gatehouse.test';

async function setup(t: { after(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-sa-keys-'));
  const storage = await openStorage('memory');
  // Reads of ServiceAccounts below the API, counted on the real storage.
  const reads = { count: 0 };
  const get = storage.get.bind(storage);
  storage.get = (key) => {
    if (key.resource.endsWith('serviceaccounts')) reads.count++;
    return get(key);
  };
  const registry = new Registry(allKinds, storage);
  await registry.bootstrap();
  const stop = new AbortController();
  const uids = new ServiceAccountUids(registry.store('', 'serviceaccounts')!);
  uids.follow(stop.signal);
  t.after(async () => {
    stop.abort();
    registry.close();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });
  const created = await registry.store('', 'serviceaccounts')!.create(
    'default',
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'robot' },
    },
    { dryRun: false, fieldValidation: 'Strict' },
  );
  const account: ServiceAccountRef = { namespace: 'default', name: 'robot', uid: created.object.metadata.uid! };
  const keyFile = (name: string) => ensureServiceAccountSigningKey(join(dir, name));
  return { dir, uids, account, keyFile, reads, registry };
}

test('a token is accepted only for its issuer and audiences, and unaltered', async (t) => {
  const { uids, account, keyFile } = await setup(t);
  const keys = await loadServiceAccountKeys(await keyFile('a'));
  const tokens = new ServiceAccountTokens({ keys, issuer: ISSUER }, uids);
  const own = (await tokens.issue(account, [ISSUER], 600)).token;
  assert.equal((await tokens.authenticateToken(own))?.name, 'system:serviceaccount:default:robot');
  assert.equal(await tokens.authenticateToken(own, ['https://vault.example']), undefined, 'another audience');
  const otherIssuer = new ServiceAccountTokens({ keys, issuer: 'https://elsewhere.example' }, uids);
  assert.equal(await otherIssuer.authenticateToken(own), undefined, 'another issuer');
  const [header, payload, signature] = own.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  claims['kubernetes.io'].namespace = 'kube-system';
  const altered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
  assert.equal(await tokens.authenticateToken(altered), undefined, 'altered claims');
  assert.equal(await tokens.authenticateToken('not-a-jwt'), undefined);
});

test('rotation: tokens of a retired signing key verify while its key is still listed, not after', async (t) => {
  const { dir, uids, account, keyFile } = await setup(t);
  const oldKey = await keyFile('old');
  const newKey = await keyFile('new');
  const before = new ServiceAccountTokens({ keys: await loadServiceAccountKeys(oldKey), issuer: ISSUER }, uids);
  const token = (await before.issue(account, [ISSUER], 3600)).token;
  // The retired key's public half, as an operator would keep it in --service-account-key-file.
  const publicPem = join(dir, 'old.pub');
  const oldPublic = createPublicKey(createPrivateKey(await readFile(oldKey, 'utf8')));
  await writeFile(publicPem, oldPublic.export({ type: 'spki', format: 'pem' }));
  const rotatingKeys = await loadServiceAccountKeys(newKey, [publicPem]);
  const rotating = new ServiceAccountTokens({ keys: rotatingKeys, issuer: ISSUER }, uids);
  assert.equal((await rotating.authenticateToken(token))?.name, 'system:serviceaccount:default:robot');
  const fresh = (await rotating.issue(account, [ISSUER], 3600)).token;
  assert.equal((await rotating.authenticateToken(fresh))?.name, 'system:serviceaccount:default:robot');
  const rotated = new ServiceAccountTokens({ keys: await loadServiceAccountKeys(newKey), issuer: ISSUER }, uids);
  assert.equal(await rotated.authenticateToken(token), undefined);
  assert.equal((await rotated.authenticateToken(fresh))?.name, 'system:serviceaccount:default:robot');
});

test('key files: an existing signing key is kept, a file without keys is named', async (t) => {
  const { keyFile } = await setup(t);
  const file = await keyFile('kept');
  const pem = await readFile(file, 'utf8');
  assert.equal(await keyFile('kept'), file);
  assert.equal(await readFile(file, 'utf8'), pem);
  assert.equal(parseVerificationKeys(pem, file).length, 1);
  assert.throws(() => parseVerificationKeys('just text', 'keys.pem'), /keys\.pem: no PEM public or private key found/);
});

test('a revoked token costs no storage read once the watch knows every ServiceAccount', async (t) => {
  const { uids, account, keyFile, reads, registry } = await setup(t);
  let now = Date.now();
  const keys = await loadServiceAccountKeys(await keyFile('k'));
  const tokens = new ServiceAccountTokens({ keys, issuer: ISSUER, now: () => now }, uids);
  const token = (await tokens.issue(account, [ISSUER], 3600)).token;
  const write = { dryRun: false, fieldValidation: 'Strict' } as const;
  await registry.store('', 'serviceaccounts')!.delete('default', 'robot', {}, write);
  // Until the watch has delivered the deletion, a lookup may read storage; then none does.
  await eventually(async () => assert.equal(await tokens.authenticateToken(token), undefined));
  now += 31_000;
  const before = reads.count;
  assert.equal(await tokens.authenticateToken(token), undefined);
  assert.equal(reads.count, before, 'refused from the watch-fed map');
  // A token issued a moment ago for a name the map does not hold is checked against storage.
  const fresh = (await tokens.issue({ ...account, name: 'newcomer' }, [ISSUER], 3600)).token;
  assert.equal(await tokens.authenticateToken(fresh), undefined);
  assert.equal(reads.count, before + 1);
});
