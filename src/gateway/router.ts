// Finds the API for a host and path in time that depends on the request (labels of the
// host, segments of the path), never on how many APIs exist. Hosts are looked up in a map
// — exact name first, then "*." wildcards from the most specific suffix, then APIs that
// name no host — and each host owns a trie of listenPath segments where the longest
// listenPath that is a segment-wise prefix of the request path wins.
import { pathSegments } from './path.ts';

export interface Route<T> {
  /** Host names, optionally "*.example.com"; empty matches any host. */
  hosts: readonly string[];
  listenPath: string;
  value: T;
}

export interface RouteMatch<T> {
  value: T;
  /** How many leading request segments the listenPath consumed. */
  depth: number;
}

class TrieNode<T> {
  /** Made on the first child: most nodes of a large catalogue are leaves. */
  children: Map<string, TrieNode<T>> | undefined;
  value: T | undefined;
}

export class Router<T> {
  private readonly exact = new Map<string, TrieNode<T>>();
  private readonly wildcard = new Map<string, TrieNode<T>>();
  private readonly anyHost = new TrieNode<T>();
  /** Routes that lost to an earlier route with the same host and listenPath. */
  shadowed: readonly Route<T>[];

  /** Routes are added in priority order: on an identical host and listenPath the first wins. */
  constructor(routes: Iterable<Route<T>>) {
    const shadowed: Route<T>[] = [];
    for (const route of routes) {
      const segments = segmentsOf(route);
      const roots = this.rootsOf(route);
      let placed = false;
      for (const root of roots) {
        let node = root;
        for (const segment of segments) {
          node.children ??= new Map();
          let child = node.children.get(segment);
          if (!child) node.children.set(segment, (child = new TrieNode<T>()));
          node = child;
        }
        if (node.value === undefined) {
          node.value = route.value;
          placed = true;
        }
      }
      if (!placed) shadowed.push(route);
    }
    this.shadowed = shadowed;
  }

  /**
   * Replaces each pair's first route with its second, which has the same hosts and
   * listenPath and a new value, in place: this costs what changed, not the size of the
   * catalogue. Matching is synchronous, so no request sees a half-replaced router.
   */
  replace(pairs: ReadonlyArray<readonly [before: Route<T>, after: Route<T>]>): void {
    for (const [before, after] of pairs) {
      for (const root of this.rootsOf(before)) {
        let node: TrieNode<T> = root;
        for (const segment of segmentsOf(before)) node = node.children!.get(segment)!;
        if (node.value === before.value) node.value = after.value;
      }
    }
    const replacing = new Map(pairs);
    if (this.shadowed.some((r) => replacing.has(r))) this.shadowed = this.shadowed.map((r) => replacing.get(r) ?? r);
  }

  /** `host` is the Host header as received (port and case are ignored). */
  match(host: string | undefined, segments: readonly string[]): RouteMatch<T> | undefined {
    // Most catalogues name no hosts: then the Host header is not even parsed.
    const name = this.exact.size || this.wildcard.size ? hostName(host) : undefined;
    if (name) {
      const exact = this.exact.get(name);
      const found = exact && walk(exact, segments);
      if (found) return found;
      for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
        const root = this.wildcard.get(name.slice(dot + 1));
        const hit = root && walk(root, segments);
        if (hit) return hit;
      }
    }
    return walk(this.anyHost, segments);
  }

  /** The tries a route is placed in: one per host, or the one of routes naming no host. */
  private rootsOf(route: Route<T>): TrieNode<T>[] {
    return route.hosts.length === 0 ? [this.anyHost] : route.hosts.map((h) => this.rootFor(h.toLowerCase()));
  }

  private rootFor(host: string): TrieNode<T> {
    const map = host.startsWith('*.') ? this.wildcard : this.exact;
    const key = host.startsWith('*.') ? host.slice(2) : host;
    let root = map.get(key);
    if (!root) map.set(key, (root = new TrieNode<T>()));
    return root;
  }
}

/** Routes are rebuilt into a new Router on every config change, most of them unchanged:
 * their listenPath is split once. */
const split = new WeakMap<Route<unknown>, readonly string[]>();

function segmentsOf(route: Route<unknown>): readonly string[] {
  let segments = split.get(route);
  if (!segments) split.set(route, (segments = pathSegments(route.listenPath)));
  return segments;
}

function walk<T>(root: TrieNode<T>, segments: readonly string[]): RouteMatch<T> | undefined {
  let node = root;
  let best = root.value;
  let depth = 0;
  for (let i = 0; i < segments.length; i++) {
    const next = node.children?.get(segments[i]);
    if (!next) break;
    node = next;
    if (node.value !== undefined) {
      best = node.value;
      depth = i + 1;
    }
  }
  return best === undefined ? undefined : { value: best, depth };
}

function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  // "[::1]:8080" keeps its brackets; "example.com:8080" loses the port.
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.lastIndexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}
