// kube's authentication/serviceaccount names: a ServiceAccount authenticates as the user
// `system:serviceaccount:NS:NAME`, in the groups `system:serviceaccounts` and `system:serviceaccounts:NS`.
// Authenticators, impersonation and RBAC's subjects all read and write these names here.
export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';

export interface ServiceAccountName {
  namespace: string;
  name: string;
}

export function serviceAccountUsername({ namespace, name }: ServiceAccountName): string {
  return `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;
}

/** kube's SplitUsername: the ServiceAccount a user name stands for, or undefined when it names none. */
export function serviceAccountOf(user: string): ServiceAccountName | undefined {
  if (!user.startsWith(SERVICE_ACCOUNT_USER_PREFIX)) return undefined;
  const [namespace, name, ...rest] = user.slice(SERVICE_ACCOUNT_USER_PREFIX.length).split(':');
  return namespace && name && rest.length === 0 ? { namespace, name } : undefined;
}

export function serviceAccountGroups(namespace: string): string[] {
  return [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`];
}
