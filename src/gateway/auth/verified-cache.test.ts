import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Refusal } from '../errors.ts';
import { VerifiedCache, credentialDigest, type Verdict } from './verified-cache.ts';

const refusal: Refusal = { code: 'CREDENTIALS_INVALID', message: 'no' };

test('remembers a success until its own deadline', async () => {
  let now = 1_000;
  const cache = new VerifiedCache<string>(() => now);
  assert.equal(cache.get('k'), undefined);
  assert.deepEqual(await cache.verify('k', async () => ({ ok: true, value: 'acme', until: 5_000 })), {
    ok: true,
    value: 'acme',
    until: 5_000,
  });
  assert.equal(cache.get('k'), 'acme');
  now = 5_000;
  assert.equal(cache.get('k'), undefined, 'never past the deadline');
});

test('never keeps a failure, nor a success already past its deadline', async () => {
  const cache = new VerifiedCache<string>(() => 1_000);
  assert.equal((await cache.verify('bad', async () => ({ ok: false, refusal }))).ok, false);
  assert.equal(cache.get('bad'), undefined);
  await cache.verify('late', async () => ({ ok: true, value: 'x', until: 1_000 }));
  assert.equal(cache.get('late'), undefined);
});

test('concurrent checks of one credential share a single run', async () => {
  const cache = new VerifiedCache<string>(() => 0);
  let runs = 0;
  let release!: (v: Verdict<string>) => void;
  const check = () => {
    runs++;
    return new Promise<Verdict<string>>((resolve) => (release = resolve));
  };
  const first = cache.verify('k', check);
  const second = cache.verify('k', check);
  release({ ok: false, refusal });
  assert.deepEqual(await Promise.all([first, second]), [
    { ok: false, refusal },
    { ok: false, refusal },
  ]);
  assert.equal(runs, 1);
  await cache.verify('k', async () => {
    runs++;
    return { ok: false, refusal };
  });
  assert.equal(runs, 2, 'a finished check is not shared with later ones');
});

test('holds a bounded number of entries, dropping the oldest', async () => {
  const cache = new VerifiedCache<number>(() => 0, 2);
  for (const n of [1, 2, 3]) await cache.verify(`k${n}`, async () => ({ ok: true, value: n, until: 10 }));
  assert.deepEqual(
    ['k1', 'k2', 'k3'].map((k) => cache.get(k)),
    [undefined, 2, 3],
  );
});

test('keys credentials by digest, never by their text', () => {
  const digest = credentialDigest('secret-token');
  assert.equal(digest, credentialDigest('secret-token'));
  assert.notEqual(digest, credentialDigest('secret-tokeN'));
  assert.ok(!digest.includes('secret'));
});
