// kube's impersonation filter (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go), run between
// authentication and authorization: `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` and
// `Impersonate-Extra-<key>` make a request act as another user. Each thing asked for is authorized
// on its own with the verb `impersonate`, as the authenticated user:
//   user                          → users NAME (core group)
//   system:serviceaccount:NS:NAME → serviceaccounts NAME in namespace NS (core group)
//   group                         → groups NAME (core group)
//   uid                           → uids UID (authentication.k8s.io)
//   extra key=value               → userextras/KEY VALUE (authentication.k8s.io)
// The first refusal ends the request with kube's 403, naming what was refused.
import type { IncomingMessage } from 'node:http';
import { serviceAccountGroups, serviceAccountOf } from '../../api/core/service-account/names.ts';
import { errors } from '../errors.ts';
import type { AuthorizationAttributes, Authorizer, UserInfo } from './auth.ts';
import { assertAuthorized } from './forbidden.ts';

const USER = 'impersonate-user';
const GROUP = 'impersonate-group';
const UID = 'impersonate-uid';
const EXTRA_PREFIX = 'impersonate-extra-';
const AUTHENTICATION_GROUP = 'authentication.k8s.io';

/** Who a request acts as, and who sent it; the audit log records both. */
export interface RequestIdentity {
  /** The user the request is authorized and acts as. */
  user: UserInfo;
  /** The authenticated sender, when it differs from `user` by impersonation. */
  impersonator?: UserInfo;
}

type Wanted = Pick<AuthorizationAttributes, 'group' | 'resource' | 'subresource' | 'namespace' | 'name'>;

/** Extra keys travel percent-encoded in header names (kube's unescapeExtraKey); a bad escape is kept as sent. */
function extraKeyOf(header: string): string {
  const key = header.slice(EXTRA_PREFIX.length);
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** The identity a request acts as: the authenticated user unless it sends impersonation headers, which are
 * authorized here. Throws 403 for anything not allowed, 400 for groups, uid or extras without a user. */
export async function impersonate(
  req: IncomingMessage,
  requestor: UserInfo,
  authorizer: Authorizer,
): Promise<RequestIdentity> {
  const headers = req.headersDistinct;
  const userName = headers[USER]?.[0] ?? '';
  const groups = headers[GROUP] ?? [];
  const uid = headers[UID]?.[0] ?? '';
  const extraHeaders = Object.keys(headers).filter((h) => h.startsWith(EXTRA_PREFIX));
  if (!userName) {
    if (groups.length || uid || extraHeaders.length) {
      const asked = [
        ...groups.map((g) => `group "${g}"`),
        ...(uid ? [`uid "${uid}"`] : []),
        ...extraHeaders.map((h) => `extra "${extraKeyOf(h)}"`),
      ];
      throw errors.badRequest(`requested ${asked.join(', ')} without impersonating a user (Impersonate-User)`);
    }
    return { user: requestor };
  }

  // In kube's order: the user (or ServiceAccount), groups, extras, uid.
  const wanted: Wanted[] = [];
  const serviceAccount = serviceAccountOf(userName);
  wanted.push(
    serviceAccount
      ? { group: '', resource: 'serviceaccounts', namespace: serviceAccount.namespace, name: serviceAccount.name }
      : { group: '', resource: 'users', name: userName },
  );
  for (const group of groups) wanted.push({ group: '', resource: 'groups', name: group });
  const extra: Record<string, string[]> = {};
  for (const header of extraHeaders) {
    const key = extraKeyOf(header);
    for (const value of headers[header] ?? []) {
      wanted.push({ group: AUTHENTICATION_GROUP, resource: 'userextras', subresource: key, name: value });
      (extra[key] ??= []).push(value);
    }
  }
  if (uid) wanted.push({ group: AUTHENTICATION_GROUP, resource: 'uids', name: uid });
  for (const attrs of wanted) await assertAuthorized(authorizer, { user: requestor, verb: 'impersonate', ...attrs });

  // Groups sent are the whole list; without any, a ServiceAccount has its fixed groups. Everyone but
  // system:anonymous is authenticated unless the list says otherwise.
  const actingGroups = groups.length || !serviceAccount ? [...groups] : serviceAccountGroups(serviceAccount.namespace);
  const anonymous = userName === 'system:anonymous';
  const marked = anonymous
    ? actingGroups.includes('system:unauthenticated')
    : actingGroups.some((g) => g === 'system:authenticated' || g === 'system:unauthenticated');
  if (!marked) actingGroups.push(anonymous ? 'system:unauthenticated' : 'system:authenticated');
  const user: UserInfo = { name: userName, uid, groups: actingGroups };
  if (Object.keys(extra).length) user.extra = extra;
  return { user, impersonator: requestor };
}
