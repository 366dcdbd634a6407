// What the request path learns about a request, kept beside it for the parts that run later (the audit
// log, which records the authenticated user and the one impersonated): kube's request context values.
import type { IncomingMessage } from 'node:http';
import type { RequestIdentity } from '../auth/impersonation.ts';

const identities = new WeakMap<IncomingMessage, RequestIdentity>();

export function setRequestIdentity(req: IncomingMessage, identity: RequestIdentity): void {
  identities.set(req, identity);
}

/** Undefined until the request is authenticated (and never for open paths: /version, health). */
export function requestIdentity(req: IncomingMessage): RequestIdentity | undefined {
  return identities.get(req);
}
