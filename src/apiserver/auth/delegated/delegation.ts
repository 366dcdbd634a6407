// Delegated authentication and authorization, as every k8s.io/apiserver extension server composes them
// (DelegatingAuthenticatorConfig, DelegatingAuthorizerConfig): the cluster decides who a request is and
// what it may do.
//   authentication: the front proxy's request headers (request-header.ts), then client certificates of the
//     cluster's client CA (client-certificate.ts), then bearer tokens by TokenReview (token-review.ts);
//   authorization: system:masters, then --authorization-always-allow-paths, then SubjectAccessReview.
import type { KubeClient } from '../../../client/rest.ts';
import type { Authenticator, Authorizer } from '../auth.ts';
import { unionAuthenticator } from '../authenticator-union.ts';
import { privilegedGroups, unionAuthorizer } from '../authorizer-union.ts';
import { bearerToken } from '../bearer-token.ts';
import { alwaysAllowPaths, DEFAULT_ALWAYS_ALLOW_PATHS } from './always-allow-paths.ts';
import { verifiedClientCertificate } from './client-certificate.ts';
import {
  AUTHENTICATION_CONFIGMAP,
  type AuthenticationFlags,
  ClusterAuthenticationSource,
} from './cluster-authentication.ts';
import { requestHeaderAuthenticator } from './request-header.ts';
import { subjectAccessReviewAuthorizer } from './subject-access-review.ts';
import { tokenReviewAuthenticator } from './token-review.ts';

/** kube's defaults (k8s.io/apiserver DelegatingAuthenticationOptions / DelegatingAuthorizationOptions). */
export const DELEGATION_DEFAULTS = {
  tokenCacheTtlMs: 10_000,
  authorizedTtlMs: 5 * 60_000,
  unauthorizedTtlMs: 30_000,
  /** Bound of each TokenReview and SubjectAccessReview (kube's webhook client timeout). */
  timeoutMs: 10_000,
  /** How long the start waits to read the ConfigMap before it fails. */
  lookupTimeoutMs: 30_000,
};

/** kube's words when the ConfigMap cannot be read, with the fix. */
function lookupFailure(err: unknown): string {
  const { namespace, name } = AUTHENTICATION_CONFIGMAP;
  const why = err instanceof Error ? `: ${err.message}` : '';
  return (
    `unable to get configmap/${name} in ${namespace}${why}. Usually fixed by 'kubectl create rolebinding -n ` +
    `${namespace} ROLEBINDING_NAME --role=extension-apiserver-authentication-reader ` +
    `--serviceaccount=YOUR_NS:YOUR_SA', or start with --authentication-skip-lookup and the flags`
  );
}

export interface DelegationOptions extends AuthenticationFlags {
  /** Where TokenReviews go and the ConfigMap is read (--authentication-kubeconfig). */
  authentication: KubeClient;
  /** Where SubjectAccessReviews go (--authorization-kubeconfig). */
  authorization: KubeClient;
  /** --authentication-skip-lookup: the flags alone, the ConfigMap is not read. */
  skipLookup?: boolean;
  tokenCacheTtlMs?: number;
  authorizedTtlMs?: number;
  unauthorizedTtlMs?: number;
  timeoutMs?: number;
  lookupTimeoutMs?: number;
  alwaysAllowPaths?: readonly string[];
  apiAudiences?: readonly string[];
  /** Told of every failure to reach the cluster; the request it served was refused or kept to the cache. */
  onError?(err: unknown, what: 'TokenReview' | 'SubjectAccessReview' | 'extension-apiserver-authentication'): void;
}

export interface Delegation {
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** Stops following the ConfigMap and closes the clients. */
  close(): Promise<void>;
}

function closeClients({ authentication, authorization }: DelegationOptions): Promise<unknown> {
  return Promise.all([...new Set([authentication, authorization])].map((client) => client.close()));
}

/** Builds the chains; resolves once the ConfigMap was read (unless skipped), so the first request already
 * knows the front proxy, as kube's servers wait for it before serving. */
export async function startDelegation(options: DelegationOptions): Promise<Delegation> {
  const settings = {
    tokenCacheTtlMs: options.tokenCacheTtlMs ?? DELEGATION_DEFAULTS.tokenCacheTtlMs,
    authorizedTtlMs: options.authorizedTtlMs ?? DELEGATION_DEFAULTS.authorizedTtlMs,
    unauthorizedTtlMs: options.unauthorizedTtlMs ?? DELEGATION_DEFAULTS.unauthorizedTtlMs,
    timeoutMs: options.timeoutMs ?? DELEGATION_DEFAULTS.timeoutMs,
    lookupTimeoutMs: options.lookupTimeoutMs ?? DELEGATION_DEFAULTS.lookupTimeoutMs,
  };
  let lookupError: unknown;
  const source = new ClusterAuthenticationSource(options, options.authentication, (err) => {
    lookupError = err;
    options.onError?.(err, 'extension-apiserver-authentication');
  });
  if (!options.skipLookup) {
    const timeout = AbortSignal.timeout(settings.lookupTimeoutMs);
    const timedOut = new Promise<boolean>((resolve) => timeout.addEventListener('abort', () => resolve(true)));
    if (await Promise.race([source.start().then(() => false), timedOut])) {
      await source.stop();
      await closeClients(options);
      throw new Error(lookupFailure(lookupError));
    }
  }
  const tokens = tokenReviewAuthenticator({
    client: options.authentication,
    ttlMs: settings.tokenCacheTtlMs,
    timeoutMs: settings.timeoutMs,
    audiences: options.apiAudiences,
    onError: (err) => options.onError?.(err, 'TokenReview'),
  });
  const authenticator = unionAuthenticator(
    requestHeaderAuthenticator(() => source.current().requestHeader),
    verifiedClientCertificate(() => source.current().clientCa),
    bearerToken(tokens),
  );
  const authorizer = unionAuthorizer(
    privilegedGroups('system:masters'),
    alwaysAllowPaths(options.alwaysAllowPaths ?? DEFAULT_ALWAYS_ALLOW_PATHS),
    subjectAccessReviewAuthorizer({
      client: options.authorization,
      allowedTtlMs: settings.authorizedTtlMs,
      deniedTtlMs: settings.unauthorizedTtlMs,
      timeoutMs: settings.timeoutMs,
      onError: (err) => options.onError?.(err, 'SubjectAccessReview'),
    }),
  );
  return {
    authenticator,
    authorizer,
    async close() {
      await source.stop();
      await closeClients(options);
    },
  };
}
