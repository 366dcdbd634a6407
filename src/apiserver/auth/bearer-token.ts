// kube's authentication/request/bearertoken: the token of an `Authorization: Bearer` header, asked of
// token authenticators in order (token file, ServiceAccount tokens); the first that knows it decides.
import type { Authenticator, TokenAuthenticator, UserInfo } from './auth.ts';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Asks each authenticator in turn; the first that accepts the token names its user. */
export function tokenUnion(...authenticators: TokenAuthenticator[]): TokenAuthenticator {
  return {
    async authenticateToken(token, audiences) {
      for (const authenticator of authenticators) {
        const user = await authenticator.authenticateToken(token, audiences);
        if (user) return user;
      }
      return undefined;
    },
  };
}

export function bearerToken(tokens: TokenAuthenticator): Authenticator {
  return {
    async authenticate(req): Promise<UserInfo | undefined> {
      const m = BEARER.exec(req.headers.authorization ?? '');
      return m ? tokens.authenticateToken(m[1]) : undefined;
    },
  };
}
