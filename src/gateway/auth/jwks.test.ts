import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import type { JsonWebKeySet } from '../../api/kinds/api-definition/index.ts';
import { inlineKeySource } from './jwks.ts';

const FIELD = 'spec.auth.jwt.jwks';
const jwks = (...keys: object[]) => ({ keys }) as JsonWebKeySet;
const rsa = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits });
const secret = (bytes: number) => randomBytes(bytes).toString('base64url');

test('refuses an inline key set it could never use, naming the key at fault', () => {
  const good = rsa().publicKey.export({ format: 'jwk' });
  const refused = (set: JsonWebKeySet, message: RegExp) => assert.throws(() => inlineKeySource(set, FIELD), message);
  refused(jwks(), /spec\.auth\.jwt\.jwks\.keys is empty/);
  refused(jwks(good, rsa().privateKey.export({ format: 'jwk' })), /spec\.auth\.jwt\.jwks\.keys\[1\] is a private key/);
  refused(
    jwks({ kty: 'oct', k: secret(16) }),
    /keys\[0\]: an HS256 secret needs at least 256 bits \(RFC 7518 section 3\.2\), this one has 128/,
  );
  refused(jwks({ kty: 'oct', k: 'not base64url!' }), /keys\[0\]: k must be the base64url-encoded secret/);
  refused(
    jwks(rsa(1024).publicKey.export({ format: 'jwk' })),
    /keys\[0\]: an RSA key needs at least 2048 bits, this one has 1024/,
  );
  refused(
    jwks(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' })),
    /keys\[0\]: curve P-384 is not supported for kty EC, only P-256/,
  );
  refused(jwks({ ...good, alg: 'RS512' }), /keys\[0\]: alg RS512 is not supported for kty RSA, only RS256/);
  refused(jwks({ ...good, use: 'enc' }), /keys\[0\]: use is enc, not sig/);
  refused(jwks({ kty: 'DSA' }), /keys\[0\]: kty "DSA" is not supported/);
  refused(jwks({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }), /keys\[0\] is not a valid EC key: Invalid JWK EC key/);
});

test('verifies RS256, ES256, EdDSA and HS256 tokens with the matching key', async () => {
  const signers: Array<{ alg: string; key: CryptoKey | Uint8Array; jwk: JWK }> = [];
  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    signers.push({ alg, key: privateKey, jwk: { ...(await exportJWK(publicKey)), kid: alg } });
  }
  const k = secret(32);
  signers.push({ alg: 'HS256', key: Buffer.from(k, 'base64url'), jwk: { kty: 'oct', k, kid: 'HS256' } });
  const source = inlineKeySource(jwks(...signers.map((s) => s.jwk)), FIELD);
  assert.deepEqual(source.algorithms, ['RS256', 'ES256', 'EdDSA', 'HS256']);
  for (const { alg, key } of signers) {
    const token = await new SignJWT({ sub: alg }).setProtectedHeader({ alg, kid: alg }).sign(key);
    assert.equal((await jwtVerify(token, source.getKey, { algorithms: source.algorithms })).payload.sub, alg);
  }
});

test('chooses a shared secret by kid, and refuses a token whose kid matches none or that names none among several', async () => {
  const [a, b] = [secret(32), secret(32)];
  const source = inlineKeySource(jwks({ kty: 'oct', k: a, kid: 'a' }, { kty: 'oct', k: b, kid: 'b' }), FIELD);
  const sign = (header: { alg: string; kid?: string }, k: string) =>
    new SignJWT({}).setProtectedHeader(header).sign(Buffer.from(k, 'base64url'));
  await jwtVerify(await sign({ alg: 'HS256', kid: 'b' }, b), source.getKey);
  await assert.rejects(jwtVerify(await sign({ alg: 'HS256', kid: 'a' }, b), source.getKey), {
    code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  });
  await assert.rejects(jwtVerify(await sign({ alg: 'HS256', kid: 'c' }, b), source.getKey), {
    code: 'ERR_JWKS_NO_MATCHING_KEY',
  });
  await assert.rejects(jwtVerify(await sign({ alg: 'HS256' }, b), source.getKey), {
    code: 'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  });
  await assert.rejects(jwtVerify(await sign({ alg: 'HS256' }, b), source.getKey, { algorithms: ['RS256'] }), {
    code: 'ERR_JOSE_ALG_NOT_ALLOWED',
  });
});
