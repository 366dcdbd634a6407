// kube's responsewriters.Forbidden: the 403 an authorizer's refusal becomes, worded as kube-apiserver
// words it, so clients and people read the same message (`users "bob" is forbidden: User "alice" cannot
// impersonate resource "users" in API group "" at the cluster scope`).
import { errors } from '../errors.ts';
import type { AuthorizationAttributes, Authorizer } from './auth.ts';

/** kube's forbiddenMessage: who cannot do what, where. */
function forbiddenMessage(attrs: AuthorizationAttributes): string {
  const who = `User "${attrs.user.name}"`;
  if (attrs.isResourceRequest === false) return `${who} cannot ${attrs.verb} path "${attrs.path}"`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const where = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  return `${who} cannot ${attrs.verb} resource "${resource}" in API group "${attrs.group}" ${where}`;
}

/** Returns when the authorizer allows the request; otherwise throws kube's 403, naming the object. */
export async function assertAuthorized(authorizer: Authorizer, attrs: AuthorizationAttributes): Promise<void> {
  const decision = await authorizer.authorize(attrs);
  if (decision.allowed) return;
  const message = `${forbiddenMessage(attrs)}${decision.reason ? `: ${decision.reason}` : ''}`;
  if (attrs.isResourceRequest === false || !attrs.resource) throw errors.forbidden(`forbidden: ${message}`);
  const resource = `${attrs.resource}${attrs.group ? `.${attrs.group}` : ''}`;
  const what = attrs.name ? `${resource} "${attrs.name}"` : resource;
  const ref = { group: attrs.group, resource: attrs.resource };
  throw errors.forbidden(`${what} is forbidden: ${message}`, ref, attrs.name);
}
