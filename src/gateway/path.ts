// Request-target checks done before routing. The gateway forwards the path as the client
// wrote it (re-encoding would change what upstreams see), so it must refuse every spelling
// that an upstream could resolve to a different path than the router matched: dot
// segments, plain or percent-encoded (RFC 3986 §5.2.4 would remove them), also with path
// parameters ("..;", which servlet containers treat as ".."), encoded slashes and
// backslashes (some servers decode them into separators), raw backslashes (some servers
// read them as slashes), NUL, and malformed escapes.
//
// Only origin-form is served (RFC 9112 §3.2.1). An absolute-form target
// ("GET http://other.example/x") comes from a client that takes the gateway for a forward
// proxy and means another site: answering it from one of our APIs would mislead it, so it
// is refused, as are "*" and authority-form.

export interface RequestTarget {
  /** Path as received, starting with "/". */
  path: string;
  /** Query including its "?", or "". */
  query: string;
  /** Path segments, percent-decoded, without empty segments: what the router walks. */
  segments: string[];
}

const FORBIDDEN_ESCAPE = /%(2f|5c|00)/i;

/** The parsed origin-form request target, or why it must be refused with 400. */
export function parseRequestTarget(url: string): RequestTarget | string {
  if (url.charCodeAt(0) !== 47 /* "/" */) return notOriginForm(url);
  if (url.includes('#')) return 'a request target cannot carry a fragment ("#")';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path.includes('\\')) return 'the path contains a backslash';
  const forbidden = FORBIDDEN_ESCAPE.exec(path);
  if (forbidden) return `the path contains ${forbidden[0]} (${forbidden[1] === '00' ? 'NUL' : 'an encoded separator'})`;
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    let segment = raw;
    if (raw.includes('%')) {
      try {
        segment = decodeURIComponent(raw);
      } catch {
        return `the path segment "${raw}" has malformed percent-encoding`;
      }
    }
    if (segment.charCodeAt(0) === 46 /* "." */ && isDotSegment(segment))
      return `the path contains the dot segment "${raw}"`;
    segments.push(segment);
  }
  return { path, query: q < 0 ? '' : url.slice(q), segments };
}

/** The non-empty segments of a path as written (listenPaths, policy paths), not decoded. */
export function pathSegments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function isDotSegment(segment: string): boolean {
  const semicolon = segment.indexOf(';');
  const name = semicolon < 0 ? segment : segment.slice(0, semicolon);
  return name === '.' || name === '..';
}

function notOriginForm(url: string): string {
  if (url === '*') return 'the asterisk-form request target "*" is not served';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    return 'an absolute-form request target is not served: this gateway is not a forward proxy; send the path only';
  return 'the request target must be a path starting with "/"';
}
