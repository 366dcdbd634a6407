// Sets of field paths, the unit of ownership in server-side apply, and their wire form:
// kube's FieldsV1 (sigs.k8s.io/structured-merge-diff fieldpath/serialize.go). A path is a
// list of elements, each written as FieldsV1 writes it:
//   `f:<name>`   a field of an object;
//   `k:<json>`   an item of an associative list, by its key fields (sorted by name);
//   `v:<json>`   an item of a set list, by its value;
//   `i:<index>`  an item of a list by position (only where no key exists).
// A set is a trie: a node is a member when the path ending there is in the set, and in
// FieldsV1 a member with children is written with a `.` entry.

/** One path element in its FieldsV1 spelling, e.g. `f:spec` or `k:{"url":"http://a"}`. */
export type PathElement = string;
export type FieldPath = readonly PathElement[];

export function fieldElement(name: string): PathElement {
  return `f:${name}`;
}

/** An associative list item by its key fields; kube writes the keys sorted by name. */
export function keyElement(keys: Record<string, unknown>): PathElement {
  const sorted = Object.keys(keys)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(keys[k])}`);
  return `k:{${sorted.join(',')}}`;
}

export function valueElement(value: unknown): PathElement {
  return `v:${JSON.stringify(value)}`;
}

export function indexElement(index: number): PathElement {
  return `i:${index}`;
}

interface Node {
  member: boolean;
  children: Map<PathElement, Node>;
}

function newNode(): Node {
  return { member: false, children: new Map() };
}

function isEmptyNode(node: Node): boolean {
  return !node.member && node.children.size === 0;
}

export class FieldSet {
  private readonly root: Node;

  private constructor(root: Node) {
    this.root = root;
  }

  static empty(): FieldSet {
    return new FieldSet(newNode());
  }

  static of(paths: FieldPath[]): FieldSet {
    const set = FieldSet.empty();
    for (const path of paths) set.insert(path);
    return set;
  }

  insert(path: FieldPath): void {
    let node = this.root;
    for (const element of path) {
      let child = node.children.get(element);
      if (!child) {
        child = newNode();
        node.children.set(element, child);
      }
      node = child;
    }
    node.member = true;
  }

  has(path: FieldPath): boolean {
    return this.node(path)?.member ?? false;
  }

  /** Whether the set holds `path` or any path below it. */
  touches(path: FieldPath): boolean {
    const node = this.node(path);
    return node !== undefined && !isEmptyNode(node);
  }

  private node(path: FieldPath): Node | undefined {
    let node: Node | undefined = this.root;
    for (const element of path) {
      node = node.children.get(element);
      if (!node) return undefined;
    }
    return node;
  }

  isEmpty(): boolean {
    return isEmptyNode(this.root);
  }

  /** Whether both sets hold the same paths. */
  equals(other: FieldSet): boolean {
    return sameNodes(this.root, other.root);
  }

  /** Member paths in insertion order, parents before their children. */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    const walk = (node: Node, prefix: PathElement[]) => {
      if (node.member && prefix.length) out.push(prefix);
      for (const [element, child] of node.children) walk(child, [...prefix, element]);
    };
    walk(this.root, []);
    return out;
  }

  /** The subset of the set below `path`, as its own set (paths relative to `path`). */
  child(path: FieldPath): FieldSet {
    const node = this.node(path);
    return node ? new FieldSet(copy(node)) : FieldSet.empty();
  }

  union(other: FieldSet): FieldSet {
    return new FieldSet(combine(this.root, other.root, (a, b) => a || b));
  }

  intersection(other: FieldSet): FieldSet {
    return new FieldSet(combine(this.root, other.root, (a, b) => a && b));
  }

  /** Members of this set that are not members of `other`; `other`'s members keep their children here. */
  difference(other: FieldSet): FieldSet {
    return new FieldSet(combine(this.root, other.root, (a, b) => a && !b));
  }

  /** kube's FieldsV1 JSON: `{"f:spec":{"f:listenPath":{}}}`, `.` marking a member that has children. */
  toFieldsV1(): Record<string, unknown> {
    const encode = (node: Node): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      if (node.member && node.children.size) out['.'] = {};
      for (const element of [...node.children.keys()].sort(compareElements)) {
        out[element] = encode(node.children.get(element) as Node);
      }
      return out;
    };
    return encode(this.root);
  }

  /** Reads FieldsV1; throws a FieldsV1Error naming the first element it cannot read. */
  static fromFieldsV1(fields: unknown): FieldSet {
    const decode = (value: unknown, node: Node, where: string) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new FieldsV1Error(`${where || 'fieldsV1'} must be a JSON object`);
      }
      const entries = Object.entries(value);
      if (entries.length === 0 && where) node.member = true;
      for (const [raw, child] of entries) {
        if (raw === '.') {
          node.member = true;
          continue;
        }
        const element = canonicalElement(raw);
        let next = node.children.get(element);
        if (!next) {
          next = newNode();
          node.children.set(element, next);
        }
        decode(child, next, `${where}${pathString([element])}`);
      }
    };
    const root = newNode();
    decode(fields, root, '');
    return new FieldSet(root);
  }
}

export class FieldsV1Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldsV1Error';
  }
}

/** The element re-spelled as the encoder writes it, so `k:` keys in any order compare equal. */
function canonicalElement(raw: string): PathElement {
  const kind = raw.slice(0, 2);
  const body = raw.slice(2);
  try {
    switch (kind) {
      case 'f:':
        return raw;
      case 'v:':
        return valueElement(JSON.parse(body));
      case 'i:':
        if (/^\d+$/.test(body)) return raw;
        break;
      case 'k:': {
        const keys = JSON.parse(body) as unknown;
        const isMap = typeof keys === 'object' && keys !== null && !Array.isArray(keys);
        if (isMap) return keyElement(keys as Record<string, unknown>);
        break;
      }
    }
  } catch {
    // Reported below with the element.
  }
  throw new FieldsV1Error(`unreadable path element ${JSON.stringify(raw)}`);
}

/** structured-merge-diff's PathElement order, which FieldsV1 is written in: fields, keys, values, indexes. */
const ELEMENT_RANK: Record<string, number> = { 'f:': 0, 'k:': 1, 'v:': 2, 'i:': 3 };

function compareElements(a: PathElement, b: PathElement): number {
  const rank = ELEMENT_RANK[a.slice(0, 2)] - ELEMENT_RANK[b.slice(0, 2)];
  if (rank !== 0) return rank;
  if (a.startsWith('i:')) return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameNodes(a: Node, b: Node): boolean {
  if (a.member !== b.member || a.children.size !== b.children.size) return false;
  for (const [element, child] of a.children) {
    const other = b.children.get(element);
    if (!other || !sameNodes(child, other)) return false;
  }
  return true;
}

function copy(node: Node): Node {
  return { member: node.member, children: new Map([...node.children].map(([e, c]) => [e, copy(c)])) };
}

/** Walks both tries together, keeping a node's membership as `keep` decides and dropping empty nodes. */
function combine(a: Node | undefined, b: Node | undefined, keep: (inA: boolean, inB: boolean) => boolean): Node {
  const out: Node = { member: keep(a?.member ?? false, b?.member ?? false), children: new Map() };
  const elements = new Set([...(a?.children.keys() ?? []), ...(b?.children.keys() ?? [])]);
  for (const element of elements) {
    const child = combine(a?.children.get(element), b?.children.get(element), keep);
    if (!isEmptyNode(child)) out.children.set(element, child);
  }
  return out;
}

/** A path as structured-merge-diff prints it in conflicts: `.spec.targets[url="http://a"].weight`. */
export function pathString(path: FieldPath): string {
  return path.map(elementString).join('');
}

function elementString(element: PathElement): string {
  const body = element.slice(2);
  switch (element.slice(0, 2)) {
    case 'f:':
      return `.${body}`;
    case 'v:':
      return `[=${body}]`;
    case 'i:':
      return `[${body}]`;
    default: {
      const keys = JSON.parse(body) as Record<string, unknown>;
      return `[${Object.entries(keys)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    }
  }
}
