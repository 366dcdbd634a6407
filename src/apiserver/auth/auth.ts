// Authentication and authorization hooks. Authenticators follow kube's
// authentication/request packages: one per credential type (token-file.ts, service-account/,
// x509.ts), bearer tokens read by bearer-token.ts, a union in front (authenticator-union.ts).
// The authorizer is a hook: the API server asks RBAC (rbac/), after the system:masters
// short-cut (authorizer-union.ts); delegated/ asks the cluster instead (aggregated mode).
import type { IncomingMessage } from 'node:http';

export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
  /** kube's user.Info Extra: more attributes of the user (set by impersonation's Impersonate-Extra-*). */
  extra?: Record<string, string[]>;
}

/** kube's authenticator.Request: who sent a request. */
export interface Authenticator {
  /** Undefined when the request carries no credentials this authenticator accepts. */
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined>;
}

/** kube's authenticator.Token: whom a bearer token stands for (also asked by TokenReview). */
export interface TokenAuthenticator {
  /** Undefined for a token this authenticator does not accept. `audiences` are those the token must be
   * meant for (TokenReview's spec.audiences); absent means the API server's own. */
  authenticateToken(token: string, audiences?: readonly string[]): Promise<UserInfo | undefined>;
}

/** kube's authorizer.Attributes. A resource request names group, resource, subresource, namespace and
 * name; a non-resource request (`isResourceRequest: false`: discovery, /healthz, /metrics…) names only
 * its `path`, which rules match with their nonResourceURLs. */
export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  /** Absent means true: every caller from before non-resource requests were authorized asks about a resource. */
  isResourceRequest?: boolean;
  /** The request path without its query, e.g. "/apis" (set on non-resource requests). */
  path?: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** What an authorizer answers (kube's Decision): `allowed`, or not with a reason for people. `denied` is an
 * explicit deny that ends a union of authorizers; without it a refusal is "no opinion" and the next one is
 * asked. */
export interface AuthorizationDecision {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
}

/** Asynchronous, as an authorizer may ask another server (kube's webhook authorizer: SubjectAccessReview). */
export interface Authorizer {
  authorize(attrs: AuthorizationAttributes): Promise<AuthorizationDecision>;
}

/** Used when no token file is configured: every request acts as an administrator. */
export const anonymousAdmin: Authenticator = {
  authenticate: async () => ({
    name: 'system:anonymous',
    uid: '',
    groups: ['system:masters', 'system:unauthenticated'],
  }),
};
