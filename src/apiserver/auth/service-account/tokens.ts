// ServiceAccount tokens as kube-apiserver issues and checks them (pkg/serviceaccount/claims.go): JWTs
// signed with the signing key, claims iss, sub, aud, exp, iat, nbf, jti and `kubernetes.io` (namespace,
// serviceaccount name and uid). A token authenticates when its signature verifies with one of the
// verification keys, the issuer is this server's, one of its audiences is asked for, it is within its
// lifetime (a minute of leeway either side for clock skew, as kube), and the ServiceAccount it names still
// exists with the uid it names.
import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload, type JWSHeaderParameters } from 'jose';
import type { TokenAuthenticator, UserInfo } from '../auth.ts';
import {
  serviceAccountGroups,
  serviceAccountUsername,
  type ServiceAccountName,
} from '../../../api/core/service-account/names.ts';
import type { ServiceAccountUids } from './accounts.ts';
import type { ServiceAccountKeys } from './keys.ts';

const LEEWAY_SECONDS = 60;

export interface ServiceAccountRef extends ServiceAccountName {
  uid: string;
}

export interface ServiceAccountTokenOptions {
  keys: ServiceAccountKeys;
  /** kube's --service-account-issuer: the `iss` of every token issued, the only one accepted. */
  issuer: string;
  /** kube's --api-audiences: what a token is meant for when a request names no audience. The issuer by default. */
  apiAudiences?: string[];
  /** Milliseconds since the epoch that tokens are issued and checked at; tests move it instead of waiting. */
  now?: () => number;
}

export interface IssuedToken {
  token: string;
  expirationTimestamp: string;
}

interface KubernetesClaim {
  namespace: string;
  serviceaccount: { name: string; uid: string };
}

/** The user a ServiceAccount authenticates as (kube's serviceaccount.UserInfo). */
function serviceAccountUser(account: ServiceAccountRef): UserInfo {
  return { name: serviceAccountUsername(account), uid: account.uid, groups: serviceAccountGroups(account.namespace) };
}

function kubernetesClaim(payload: JWTPayload): KubernetesClaim | undefined {
  const claim = payload['kubernetes.io'] as Partial<KubernetesClaim> | undefined;
  const sa = claim?.serviceaccount;
  const complete = typeof claim?.namespace === 'string' && typeof sa?.name === 'string' && typeof sa.uid === 'string';
  if (!complete) return undefined;
  return claim as KubernetesClaim;
}

export class ServiceAccountTokens implements TokenAuthenticator {
  readonly issuer: string;
  readonly apiAudiences: readonly string[];
  private readonly keys: ServiceAccountKeys;
  private readonly now: () => number;
  private readonly accounts: ServiceAccountUids;

  constructor(options: ServiceAccountTokenOptions, accounts: ServiceAccountUids) {
    this.keys = options.keys;
    this.issuer = options.issuer;
    this.apiAudiences = options.apiAudiences ?? [options.issuer];
    this.now = options.now ?? Date.now;
    this.accounts = accounts;
  }

  async issue(account: ServiceAccountRef, audiences: readonly string[], lifetimeSeconds: number): Promise<IssuedToken> {
    const issuedAt = Math.floor(this.now() / 1000);
    const expiresAt = issuedAt + lifetimeSeconds;
    const { privateKey, alg, kid } = this.keys.signing;
    const { namespace, name, uid } = account;
    const claim: KubernetesClaim = { namespace, serviceaccount: { name, uid } };
    const token = await new SignJWT({ 'kubernetes.io': claim })
      .setProtectedHeader({ alg, kid })
      .setIssuer(this.issuer)
      .setSubject(serviceAccountUsername(account))
      .setAudience([...audiences])
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(privateKey);
    return { token, expirationTimestamp: new Date(expiresAt * 1000).toISOString() };
  }

  async authenticateToken(token: string, audiences?: readonly string[]): Promise<UserInfo | undefined> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header: JWSHeaderParameters) => this.keyFor(header), {
        issuer: this.issuer,
        audience: [...(audiences ?? this.apiAudiences)],
        currentDate: new Date(this.now()),
        clockTolerance: LEEWAY_SECONDS,
        algorithms: [...new Set(this.keys.verification.map((k) => k.alg))],
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch {
      // Not a JWT, signed by another key, another issuer or audience, expired: not this authenticator's token.
      return undefined;
    }
    const claim = kubernetesClaim(payload);
    if (!claim) return undefined;
    const account = { namespace: claim.namespace, name: claim.serviceaccount.name, uid: claim.serviceaccount.uid };
    const user = serviceAccountUser(account);
    if (payload.sub !== user.name) return undefined;
    // Bound to the ServiceAccount's uid: the tokens of one deleted (or deleted and made again) are revoked.
    const issuedAt = (payload.iat ?? 0) * 1000;
    const uid = await this.accounts.uidOf(account.namespace, account.name, issuedAt, this.now());
    if (uid !== account.uid) return undefined;
    return user;
  }

  private keyFor(header: JWSHeaderParameters) {
    const key = this.keys.verification.find((k) => k.kid === header.kid && k.alg === header.alg);
    if (!key) throw new Error(`no verification key with kid ${header.kid}`);
    return key.key;
  }
}
