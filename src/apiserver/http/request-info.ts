// Splits a resource URL into its parts, as kube-apiserver's RequestInfoFactory does:
//   /api/v1[/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]
//   /apis/GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]
// with the deprecated `/watch/` segment after the version accepted too. A segment that does
// not decode, or holds a NUL (which storage cannot keep), is a 400 naming the segment.
import { errors } from '../errors.ts';

export interface ResourceRequest {
  group: string;
  version: string;
  /** Set for namespaced URLs; undefined for cluster-wide ones. */
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  /** The URL used the legacy `/watch/` prefix. */
  watchPrefix: boolean;
}

/** Namespace subresources: `/api/v1/namespaces/NAME/status` is the namespace's status, not
 * a resource called `status` inside namespace NAME. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Returns undefined when the path is not a resource path. */
export function parseResourcePath(pathname: string): ResourceRequest | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeSegment);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api') {
    if (parts.length < 3) return undefined;
    group = '';
    rest = parts.slice(1);
  } else if (parts[0] === 'apis') {
    if (parts.length < 4) return undefined;
    group = parts[1];
    rest = parts.slice(2);
  } else {
    return undefined;
  }
  const version = rest[0];
  let segments = rest.slice(1);
  let watchPrefix = false;
  if (segments[0] === 'watch') {
    watchPrefix = true;
    segments = segments.slice(1);
  }
  if (segments.length === 0) return undefined;
  let namespace: string | undefined;
  if (
    segments[0] === 'namespaces' &&
    segments.length >= 3 &&
    !(group === '' && segments.length === 3 && NAMESPACE_SUBRESOURCES.has(segments[2]))
  ) {
    namespace = segments[1];
    segments = segments.slice(2);
  }
  if (segments.length > 3) return undefined;
  const [resource, name, subresource] = segments;
  const named = { namespace, resource, name, subresource };
  for (const [role, value] of Object.entries(named)) {
    if (value?.includes('\0')) {
      const refused = `${role} ${JSON.stringify(value)} in the request path`;
      throw errors.badRequest(`invalid ${refused}: must not contain a NUL character`);
    }
  }
  return { group, version, namespace, resource, name, subresource, watchPrefix };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw errors.badRequest(`the request path segment "${segment}" is not valid percent-encoded UTF-8`);
  }
}
