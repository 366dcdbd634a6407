// Authentication and authorization hooks. Standalone, users come from a static token file
// in kube-apiserver's format (`token,user,uid,"group1,group2"`); in a cluster, a later
// authenticator reads front-proxy headers. The authorizer is a hook: the API server asks RBAC
// (rbac/), after the system:masters short-cut (authorizer-union.ts).
import { readFile } from 'node:fs/promises';

export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
  /** kube's user.Info Extra: more attributes of the user (set by impersonation's Impersonate-Extra-*). */
  extra?: Record<string, string[]>;
}

export interface Authenticator {
  /** Undefined when the request carries no valid credentials. */
  authenticate(authorization: string | undefined): UserInfo | undefined;
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

export interface Authorizer {
  authorize(attrs: AuthorizationAttributes): AuthorizationDecision;
}

/** Parses one CSV line with double-quoted fields (the token file's fourth column). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields.map((f) => f.trim());
}

export function parseTokenFile(text: string, source: string): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || line.trim().startsWith('#')) return;
    const [token, name, uid, groups] = csvFields(line);
    if (!token || !name || !uid) throw new Error(`${source}:${index + 1}: a token line needs at least token,user,uid`);
    tokens.set(token, { name, uid, groups: groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [] });
  });
  return tokens;
}

export async function tokenFileAuthenticator(path: string): Promise<Authenticator> {
  const tokens = parseTokenFile(await readFile(path, 'utf8'), path);
  return {
    authenticate(authorization) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!m) return undefined;
      const user = tokens.get(m[1]);
      return user ? { ...user, groups: [...user.groups, 'system:authenticated'] } : undefined;
    },
  };
}

/** Used when no token file is configured: every request acts as an administrator. */
export const anonymousAdmin: Authenticator = {
  authenticate: () => ({ name: 'system:anonymous', uid: '', groups: ['system:masters', 'system:unauthenticated'] }),
};
