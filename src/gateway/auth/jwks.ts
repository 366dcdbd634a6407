// Where JWT signature keys come from.
//
// An inline set (spec.auth.jwt.jwks) is checked when the config compiles, so a key the
// gateway could never use leaves the API out with a message naming it instead of failing
// every request. A remote set (spec.auth.jwt.jwksUri) is jose's createRemoteJWKSet: fetched
// on first use, kept, and fetched again when a token names a key id the set lacks (that is
// how a rotation to a new key is picked up), but not more often than the cooldown allows, so
// tokens with made-up key ids cannot hammer the issuer. A remote set is made once per API and
// URI and carried across config swaps (like upstream pools), so a swap never refetches.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWK, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose';
import type { JsonWebKeySet } from '../../api/kinds/api-definition/index.ts';
import { Carried } from '../carried.ts';

/** One algorithm per key type. */
export type JwtAlgorithm = 'RS256' | 'ES256' | 'EdDSA' | 'HS256';

/** HS256 needs a shared secret, which a key set published at a URL cannot hold. */
const REMOTE_ALGORITHMS: JwtAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];

const KEY_TYPES: Record<string, { alg: JwtAlgorithm; crv?: string }> = {
  RSA: { alg: 'RS256' },
  EC: { alg: 'ES256', crv: 'P-256' },
  OKP: { alg: 'EdDSA', crv: 'Ed25519' },
  oct: { alg: 'HS256' },
};

/** RFC 7518 section 3.2: an HMAC key at least as long as the hash. */
const MIN_SECRET_BYTES = 32;
const MIN_RSA_BITS = 2048;

export interface KeySource {
  getKey: JWTVerifyGetKey;
  /** The algorithms tokens may use: those of the keys held. */
  algorithms: JwtAlgorithm[];
}

/** Keys of an inline JSON Web Key Set; throws naming the first key (by its `field` path)
 * that cannot verify tokens. */
export function inlineKeySource(jwks: JsonWebKeySet, field: string): KeySource {
  if (!jwks.keys.length) throw new Error(`${field}.keys is empty: no token could be verified`);
  const publicKeys: JWK[] = [];
  const secrets: Array<{ kid?: string; secret: Uint8Array }> = [];
  const algorithms = new Set<JwtAlgorithm>();
  jwks.keys.forEach((key, i) => {
    const jwk = key as JWK;
    algorithms.add(checkKey(jwk, `${field}.keys[${i}]`));
    if (jwk.kty === 'oct') secrets.push({ kid: jwk.kid, secret: Buffer.from(jwk.k!, 'base64url') });
    else publicKeys.push(jwk);
  });
  const local = publicKeys.length ? createLocalJWKSet({ keys: publicKeys }) : undefined;
  return {
    algorithms: [...algorithms],
    // jose's local sets hold public keys only; shared secrets are matched here the same way
    // (a token naming a kid needs a key with that kid).
    getKey: (header, token) => {
      if (header.alg !== 'HS256') {
        if (!local) throw new errors.JWKSNoMatchingKey();
        return local(header, token);
      }
      const matching = secrets.filter((s) => header.kid === undefined || s.kid === header.kid);
      if (!matching.length) throw new errors.JWKSNoMatchingKey();
      if (matching.length > 1) throw new errors.JWKSMultipleMatchingKeys();
      return matching[0].secret;
    },
  };
}

/** The algorithm `jwk` verifies; throws naming `at` when the gateway cannot use it. */
function checkKey(jwk: JWK, at: string): JwtAlgorithm {
  const type = KEY_TYPES[jwk.kty ?? ''];
  if (!type) throw new Error(`${at}: kty ${JSON.stringify(jwk.kty)} is not supported (RSA, EC, OKP or oct)`);
  if (jwk.alg !== undefined && jwk.alg !== type.alg)
    throw new Error(`${at}: alg ${jwk.alg} is not supported for kty ${jwk.kty}, only ${type.alg}`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new Error(`${at}: use is ${jwk.use}, not sig`);
  if (jwk.kty === 'oct') {
    if (typeof jwk.k !== 'string' || !/^[A-Za-z0-9_-]+$/.test(jwk.k))
      throw new Error(`${at}: k must be the base64url-encoded secret`);
    const bytes = Buffer.from(jwk.k, 'base64url').length;
    if (bytes < MIN_SECRET_BYTES)
      throw new Error(
        `${at}: an HS256 secret needs at least ${MIN_SECRET_BYTES * 8} bits (RFC 7518 section 3.2), this one has ${bytes * 8}`,
      );
    return type.alg;
  }
  if (jwk.d !== undefined) throw new Error(`${at} is a private key: a key set holds public keys only`);
  if (type.crv && jwk.crv !== type.crv)
    throw new Error(`${at}: curve ${jwk.crv} is not supported for kty ${jwk.kty}, only ${type.crv}`);
  let bits: number | undefined;
  try {
    bits = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
  } catch (err) {
    throw new Error(`${at} is not a valid ${jwk.kty} key: ${(err as Error).message}`);
  }
  if (jwk.kty === 'RSA' && (bits ?? 0) < MIN_RSA_BITS)
    throw new Error(`${at}: an RSA key needs at least ${MIN_RSA_BITS} bits, this one has ${bits}`);
  return type.alg;
}

/** How remote key sets are fetched and kept (jose's defaults when absent). */
export interface JwksCaching {
  /** Least time between a fetch and the next one caused by an unknown key id (default 30 s). */
  cooldownMs?: number;
  /** Age after which a set is fetched again before use (default 10 min). */
  maxAgeMs?: number;
  /** Limit on one fetch (default 5 s). */
  timeoutMs?: number;
}

/** The remote key sets of a gateway, kept across config swaps while an API uses them (a
 * set holds nothing to close). */
export class RemoteKeySets {
  private readonly sets = new Carried<RemoteJWKSet>(() => undefined);

  constructor(private readonly caching: JwksCaching = {}) {}

  /** The set at `uri` used by API `apiId`, made when no config has used it yet. */
  get(apiId: string, uri: string): KeySource {
    const set = this.sets.get(`${apiId}|${uri}`, () =>
      createRemoteJWKSet(new URL(uri), {
        cooldownDuration: this.caching.cooldownMs,
        cacheMaxAge: this.caching.maxAgeMs,
        timeoutDuration: this.caching.timeoutMs,
      }),
    );
    return { getKey: set, algorithms: REMOTE_ALGORITHMS };
  }
}
