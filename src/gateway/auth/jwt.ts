// JWT bearer tokens (spec.auth.type jwt; RFC 7519, sent as RFC 6750 describes). jose checks
// the signature against the API's keys, then iss, aud (any of spec.auth.jwt.audiences),
// exp (required) and nbf with a small clock tolerance. The value of the consumerClaim names
// the Consumer: the one listing it in spec.jwtSubjects, else the one of that name. A token
// that verified is remembered by digest until its exp, a minute at most, so only its first
// request waits for the signature check (and, with a remote key set, perhaps a fetch).
import { errors, jwtVerify, type JWTVerifyOptions } from 'jose';
import type { ApiDefinition } from '../../api/kinds/api-definition/index.ts';
import type { Refusal } from '../errors.ts';
import type { Step } from '../policies.ts';
import { challenge } from './challenge.ts';
import { admit, type AccessRequest, type ConsumerDirectory } from './consumers.ts';
import { inlineKeySource, type RemoteKeySets } from './jwks.ts';
import { VERIFIED_KEPT_MS, VerifiedCache, credentialDigest, type Verdict } from './verified-cache.ts';

/** Seconds of clock difference with the issuer tolerated on exp and nbf. */
const CLOCK_TOLERANCE_SECONDS = 30;

export interface JwtDeps {
  apiId: string;
  consumers: ConsumerDirectory;
  keySets: RemoteKeySets;
  now: () => number;
}

/** error_description of the token failures jose reports, by jose error code. Other
 * failures (a key set that cannot be fetched or read) are the gateway's, not the token's. */
const TOKEN_FAILURES: Record<string, string> = {
  ERR_JWT_EXPIRED: 'the token has expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'the signature is invalid',
  ERR_JWKS_NO_MATCHING_KEY: 'no key of this API matches the alg and kid of the token',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'several keys of this API match the token; it must name one with kid',
  ERR_JOSE_ALG_NOT_ALLOWED: 'the alg of the token is not accepted',
  ERR_JOSE_NOT_SUPPORTED: 'the alg of the token is not accepted',
  ERR_JWS_INVALID: 'the token is malformed',
  ERR_JWT_INVALID: 'the token is malformed',
};

export function jwtStep(api: ApiDefinition, deps: JwtDeps): Step {
  const settings = api.spec.auth.jwt;
  if (!settings) throw new Error('spec.auth.jwt is required when spec.auth.type is jwt');
  const source = settings.jwks
    ? inlineKeySource(settings.jwks, 'spec.auth.jwt.jwks')
    : settings.jwksUri
      ? deps.keySets.get(deps.apiId, settings.jwksUri)
      : undefined;
  if (!source) throw new Error('spec.auth.jwt needs one of jwksUri or jwks');
  const claim = settings.consumerClaim ?? 'sub';
  const options: JWTVerifyOptions = {
    algorithms: source.algorithms,
    issuer: settings.issuer,
    audience: settings.audiences?.length ? settings.audiences : undefined,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    // A token without exp would be good forever.
    requiredClaims: ['exp'],
  };
  const namespace = api.metadata.namespace ?? 'default';
  const realm = deps.apiId;
  // RFC 6750 section 3.1: no error code when the request carried no credentials.
  const missing: Refusal = {
    code: 'CREDENTIALS_MISSING',
    message: 'a bearer token is required in the Authorization header',
    headers: { 'www-authenticate': challenge('Bearer', { realm }) },
  };
  const invalid = (description: string): Verdict<string> => ({
    ok: false,
    refusal: {
      code: 'CREDENTIALS_INVALID',
      message: description,
      headers: {
        'www-authenticate': challenge('Bearer', { realm, error: 'invalid_token', error_description: description }),
      },
    },
  });
  const verified = new VerifiedCache<string>(deps.now);

  const verify = async (token: string): Promise<Verdict<string>> => {
    try {
      const { payload } = await jwtVerify(token, source.getKey, options);
      const subject = payload[claim];
      if (typeof subject !== 'string' || !subject) return invalid(`the ${claim} claim is missing or not a string`);
      return { ok: true, value: subject, until: Math.min(payload.exp! * 1000, deps.now() + VERIFIED_KEPT_MS) };
    } catch (err) {
      if (err instanceof errors.JWTClaimValidationFailed) {
        return invalid(
          err.reason === 'missing'
            ? `the ${err.claim} claim is missing`
            : err.claim === 'nbf'
              ? 'the token is not valid yet'
              : `the ${err.claim} claim is not accepted`,
        );
      }
      const description = TOKEN_FAILURES[(err as { code?: string }).code ?? ''];
      if (description) return invalid(description);
      return {
        ok: false,
        refusal: { code: 'AUTH_UNAVAILABLE', message: 'the keys of this API could not be loaded; try again later' },
      };
    }
  };
  const admitSubject = (ctx: AccessRequest, subject: string): Refusal | undefined => {
    const who = deps.consumers.bySubject(namespace, subject);
    if (!who)
      return {
        code: 'ACCESS_FORBIDDEN',
        message: `no Consumer in namespace ${namespace} lists ${claim} "${subject}" in spec.jwtSubjects or is named so`,
      };
    return admit(ctx, who, deps.apiId);
  };

  return (ctx) => {
    const token = bearerToken(ctx.req.headers.authorization);
    if (token === undefined) return missing;
    const digest = credentialDigest(token);
    const subject = verified.get(digest);
    if (subject !== undefined) return admitSubject(ctx, subject);
    return verified.verify(digest, () => verify(token)).then((v) => (v.ok ? admitSubject(ctx, v.value) : v.refusal));
  };
}

/** The credentials of an `Authorization: Bearer` header (the scheme is case-insensitive,
 * RFC 9110 section 11.1), or undefined when the request carries none. Malformed tokens are
 * returned as they are, for verification to refuse. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization || !/^bearer /i.test(authorization)) return undefined;
  return authorization.slice(7).trim() || undefined;
}
