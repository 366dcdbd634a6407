// kube's authentication/request/union with its group adder: authenticators asked in order, the first
// that names a user decides, and every authenticated user is in `system:authenticated` exactly once.
import type { Authenticator, UserInfo } from './auth.ts';

export const AUTHENTICATED_GROUP = 'system:authenticated';

export function unionAuthenticator(...authenticators: Authenticator[]): Authenticator {
  return {
    async authenticate(req) {
      for (const authenticator of authenticators) {
        const user = await authenticator.authenticate(req);
        if (user) return withAuthenticatedGroup(user);
      }
      return undefined;
    },
  };
}

export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  return user.groups.includes(AUTHENTICATED_GROUP) ? user : { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}
