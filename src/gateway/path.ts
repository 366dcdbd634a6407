// Request-target checks done before routing. The gateway forwards the path as the client
// wrote it (re-encoding would change what upstreams see), so it must refuse every spelling
// that an upstream could resolve to a different path than the router matched: dot
// segments, plain or percent-encoded (RFC 3986 §5.2.4 would remove them), encoded slashes
// and backslashes (some servers decode them into separators), NUL, and malformed escapes.

export interface RequestTarget {
  /** Path as received, starting with "/". */
  path: string;
  /** Query including its "?", or "". */
  query: string;
  /** Path segments, percent-decoded, without empty segments: what the router walks. */
  segments: string[];
}

const FORBIDDEN_ESCAPE = /%(2f|5c|00)/i;

/** The parsed origin-form request target, or undefined when it must be refused with 400. */
export function parseRequestTarget(url: string): RequestTarget | undefined {
  if (url.charCodeAt(0) !== 47 /* "/" */) return undefined; // absolute-form, authority-form, "*"
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path.includes('\\') || FORBIDDEN_ESCAPE.test(path)) return undefined;
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    let segment = raw;
    if (raw.includes('%')) {
      try {
        segment = decodeURIComponent(raw);
      } catch {
        return undefined;
      }
    }
    if (segment === '.' || segment === '..') return undefined;
    segments.push(segment);
  }
  return { path, query: q < 0 ? '' : url.slice(q), segments };
}
