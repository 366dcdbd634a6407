// Finds the API for a host and path in time that depends on the request (labels of the
// host, segments of the path), never on how many APIs exist. Hosts are looked up in a map
// — exact name first, then "*." wildcards from the most specific suffix, then APIs that
// name no host — and each host owns a trie of listenPath segments where the longest
// listenPath that is a segment-wise prefix of the request path wins.

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
  private exact = new Map<string, TrieNode<T>>();
  private wildcard = new Map<string, TrieNode<T>>();
  private anyHost = new TrieNode<T>();
  /** Routes that lost to an earlier route with the same host and listenPath. */
  shadowed: readonly Route<T>[] = [];

  /** Routes are added in priority order: on an identical host and listenPath the first wins. */
  constructor(routes: Iterable<Route<T>>) {
    for (const route of routes) {
      const segments = segmentsOf(route);
      const roots = route.hosts.length === 0 ? [this.anyHost] : route.hosts.map((h) => this.rootFor(h.toLowerCase()));
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
      if (!placed) (this.shadowed as Route<T>[]).push(route);
    }
  }

  /**
   * This router with each pair's first route replaced by its second, which has the same hosts
   * and listenPath and a new value. The trie is shared but for the nodes on the paths of the
   * replaced routes, so this costs what changed, not the size of the catalogue; this router
   * is left as it was (requests under way may still be using it).
   */
  withReplaced(pairs: ReadonlyArray<readonly [before: Route<T>, after: Route<T>]>): Router<T> {
    const next = new Router<T>([]);
    next.exact = new Map(this.exact);
    next.wildcard = new Map(this.wildcard);
    next.anyHost = this.anyHost;
    const copied = new Set<TrieNode<T>>();
    const copy = (node: TrieNode<T>): TrieNode<T> => {
      if (copied.has(node)) return node;
      const clone = new TrieNode<T>();
      clone.children = node.children && new Map(node.children);
      clone.value = node.value;
      copied.add(clone);
      return clone;
    };
    const replacing = new Map(pairs);
    for (const [before, after] of pairs) {
      const roots: Array<[map: Map<string, TrieNode<T>> | undefined, key: string]> = before.hosts.length === 0 ? [[undefined, '']] : before.hosts.map((h) => next.rootKey(h.toLowerCase()));
      for (const [map, key] of roots) {
        let node = copy(map ? map.get(key)! : next.anyHost);
        if (map) map.set(key, node);
        else next.anyHost = node;
        for (const segment of segmentsOf(before)) {
          const child = copy(node.children!.get(segment)!);
          node.children!.set(segment, child);
          node = child;
        }
        if (node.value === before.value) node.value = after.value;
      }
    }
    next.shadowed = this.shadowed.map((r) => replacing.get(r) ?? r);
    return next;
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

  /** The map holding the trie of `host` (lower case), and its key there. */
  private rootKey(host: string): [Map<string, TrieNode<T>>, string] {
    return host.startsWith('*.') ? [this.wildcard, host.slice(2)] : [this.exact, host];
  }

  private rootFor(host: string): TrieNode<T> {
    const [map, key] = this.rootKey(host);
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
  if (!segments) split.set(route, (segments = route.listenPath.split('/').filter((s) => s !== '')));
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
