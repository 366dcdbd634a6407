// What authenticates a request to the API server, composed as kube-apiserver composes it: client
// certificates (--client-ca-file), then bearer tokens, those of the token file (--token-file) before
// ServiceAccount tokens (--service-account-*), behind one union that adds `system:authenticated`. With
// neither a token file nor a client CA, authentication is off, as it has always been: a request that
// nothing authenticates acts as an administrator.
import type { Registry } from '../registry/registry.ts';
import { anonymousAdmin, type Authenticator, type TokenAuthenticator } from './auth.ts';
import { unionAuthenticator } from './authenticator-union.ts';
import { bearerToken, tokenUnion } from './bearer-token.ts';
import { ServiceAccountUids } from './service-account/accounts.ts';
import { ServiceAccountTokens, type ServiceAccountTokenOptions } from './service-account/tokens.ts';
import { tokenFileAuthenticator } from './token-file.ts';
import { clientCertificate } from './x509.ts';

export interface AuthenticationOptions {
  tokenFile?: string;
  /** Told when a changed token file cannot be read; the tokens read before stay in force. */
  onTokenFileError?(err: unknown): void;
  /** Whether the TLS server verifies client certificates against a client CA (see server.ts). */
  clientCertificates?: boolean;
  serviceAccountTokens?: ServiceAccountTokenOptions;
}

export interface Authentication {
  authenticator: Authenticator;
  /** The bearer token authenticators, which TokenReview asks. */
  tokens: TokenAuthenticator;
  /** Issues the token subresource's tokens; absent without ServiceAccount keys. */
  serviceAccountTokens?: ServiceAccountTokens;
  /** What a token is meant for when a TokenReview names no audience (kube's --api-audiences). */
  apiAudiences: readonly string[];
}

/** Builds the authenticators; the ServiceAccount uid cache follows storage until `signal` aborts. */
export async function startAuthentication(
  options: AuthenticationOptions,
  registry: Registry,
  signal: AbortSignal,
): Promise<Authentication> {
  const tokenAuthenticators: TokenAuthenticator[] = [];
  if (options.tokenFile) {
    const onError = options.onTokenFileError ?? (() => {});
    tokenAuthenticators.push(await tokenFileAuthenticator(options.tokenFile, { signal, onError }));
  }
  let serviceAccountTokens: ServiceAccountTokens | undefined;
  if (options.serviceAccountTokens) {
    const store = registry.store('', 'serviceaccounts');
    if (!store) throw new Error('ServiceAccount tokens need the ServiceAccount kind');
    const uids = new ServiceAccountUids(store);
    uids.follow(signal);
    serviceAccountTokens = new ServiceAccountTokens(options.serviceAccountTokens, uids);
    tokenAuthenticators.push(serviceAccountTokens);
  }
  const tokens = tokenUnion(...tokenAuthenticators);
  const certificates = options.clientCertificates ? [clientCertificate] : [];
  const authenticated = unionAuthenticator(...certificates, bearerToken(tokens));
  const enabled = Boolean(options.tokenFile || options.clientCertificates);
  const authenticator: Authenticator = enabled
    ? authenticated
    : { authenticate: async (req) => (await authenticated.authenticate(req)) ?? anonymousAdmin.authenticate(req) };
  return { authenticator, tokens, serviceAccountTokens, apiAudiences: serviceAccountTokens?.apiAudiences ?? [] };
}
