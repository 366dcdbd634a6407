// kube's path authorizer (k8s.io/apiserver/pkg/authorization/path, --authorization-always-allow-paths):
// non-resource paths anyone may request without asking the cluster; an entry ending in `*` is a prefix.
import type { Authorizer } from '../auth.ts';

export const DEFAULT_ALWAYS_ALLOW_PATHS = ['/healthz', '/readyz', '/livez'];

export function alwaysAllowPaths(paths: readonly string[]): Authorizer {
  const exact = new Set(paths.filter((p) => !p.endsWith('*')));
  const prefixes = paths.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return {
    async authorize({ isResourceRequest, path }) {
      if (isResourceRequest !== false || path === undefined) return { allowed: false };
      return { allowed: exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix)) };
    },
  };
}
