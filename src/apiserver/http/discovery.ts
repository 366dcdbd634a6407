// Discovery documents, shaped exactly like kube-apiserver's so that kubectl, client-go and
// client-node find our resources: the legacy per-group documents (meta/v1 APIVersions,
// APIGroupList, APIGroup, APIResourceList) and the aggregated one (apidiscovery.k8s.io
// APIGroupDiscoveryList). Pure functions of the kind list; the HTTP layer caches them.
// Field presence follows the Go JSON tags: fields tagged `omitempty` are left out when
// empty, the others are always written.

import { createHash } from 'node:crypto';
import type { KindDefinition } from '../../api/kind.ts';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** A subresource beyond `status`, served by a kind's own handler. `kind` names the parent
 * kind; `responseKind` defaults to the parent's group, version and kind. */
export interface ExtraSubresource {
  kind: string;
  name: string;
  verbs: string[];
  responseKind?: GroupVersionKind;
}

/** A subresource as both discovery and OpenAPI describe it. */
export interface Subresource {
  name: string;
  verbs: string[];
  responseKind: GroupVersionKind;
}

/** Verbs of every top-level resource, sorted as kube-apiserver lists them. */
export const RESOURCE_VERBS: readonly string[] = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];
export const STATUS_VERBS: readonly string[] = ['get', 'patch', 'update'];

/** The verbs of a kind's top-level resource: only `create` for a create-only kind. */
export function verbsOf(def: KindDefinition): string[] {
  return def.createOnly ? ['create'] : [...RESOURCE_VERBS];
}

export const AGGREGATED_DISCOVERY_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_DISCOVERY_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

export type DiscoveryFormat = 'v2' | 'v2beta1' | 'legacy';

export function gvkOf(def: KindDefinition): GroupVersionKind {
  return { group: def.group, version: def.version, kind: def.kind };
}

/** `v1` for the core group, `group/version` otherwise (the apiVersion of its objects). */
export function groupVersionString(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Distinct group versions in first-seen order, which is the order of preference. */
export function groupVersions(kinds: readonly KindDefinition[]): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const def of kinds) {
    const key = groupVersionString(def.group, def.version);
    if (!seen.has(key)) seen.set(key, { group: def.group, version: def.version });
  }
  return [...seen.values()];
}

export function kindsOf(kinds: readonly KindDefinition[], group: string, version: string): KindDefinition[] {
  return kinds.filter((def) => def.group === group && def.version === version);
}

/** The kind's subresources sorted by name: `status` when the kind declares it, then the
 * extras registered for it. */
export function subresourcesOf(def: KindDefinition, extras: readonly ExtraSubresource[]): Subresource[] {
  const list: Subresource[] = [];
  if (def.statusSubresource) list.push({ name: 'status', verbs: [...STATUS_VERBS], responseKind: gvkOf(def) });
  for (const extra of extras) {
    if (extra.kind !== def.kind) continue;
    list.push({ name: extra.name, verbs: [...extra.verbs].sort(), responseKind: extra.responseKind ?? gvkOf(def) });
  }
  return list.sort((a, b) => compare(a.name, b.name));
}

/** Base64 of the first 8 bytes of sha256("group/version/kind"), the value kube-apiserver
 * publishes so clients can tell when a resource's storage version changes. */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

// ---- legacy discovery ----

export interface ServerAddressByClientCIDR {
  clientCIDR: string;
  serverAddress: string;
}

export interface APIVersions {
  kind: 'APIVersions';
  versions: string[];
  serverAddressByClientCIDRs: ServerAddressByClientCIDR[];
}

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIGroup {
  kind?: 'APIGroup';
  apiVersion?: 'v1';
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion: GroupVersionForDiscovery;
}

export interface APIGroupList {
  kind: 'APIGroupList';
  apiVersion: 'v1';
  groups: APIGroup[];
}

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
}

export interface APIResourceList {
  kind: 'APIResourceList';
  apiVersion?: 'v1';
  groupVersion: string;
  resources: APIResource[];
}

/** `/api`. */
export function legacyCoreVersions(serverAddress: string): APIVersions {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** `/apis`: every named group; the core group is served at `/api` instead. Groups inside
 * the list carry no kind/apiVersion, as in kube. */
export function legacyGroupList(kinds: readonly KindDefinition[]): APIGroupList {
  const groups = distinct(kinds.map((def) => def.group).filter((group) => group !== ''));
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((group) => groupEntry(kinds, group)),
  };
}

/** `/apis/GROUP`, or undefined when no kind belongs to the group. */
export function legacyGroup(kinds: readonly KindDefinition[], group: string): APIGroup | undefined {
  if (group === '' || !kinds.some((def) => def.group === group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(kinds, group) };
}

/** `/api/v1` (group '') or `/apis/GROUP/VERSION`, or undefined when nothing is served
 * there. Subresources follow their parent as `plural/subresource` entries. kube omits
 * apiVersion on the core list only. */
export function legacyResourceList(
  kinds: readonly KindDefinition[],
  group: string,
  version: string,
  extraSubresources: readonly ExtraSubresource[],
): APIResourceList | undefined {
  const defs = sortedByPlural(kindsOf(kinds, group, version));
  if (defs.length === 0) return undefined;
  const resources: APIResource[] = [];
  for (const def of defs) {
    resources.push({
      name: def.plural,
      singularName: def.singular,
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: verbsOf(def),
      ...nonEmpty('shortNames', def.shortNames),
      ...nonEmpty('categories', def.categories),
      // Nothing is stored of a create-only kind, so kube publishes no storage version for it.
      ...(def.createOnly ? {} : { storageVersionHash: storageVersionHash(def.group, def.version, def.kind) }),
    });
    for (const sub of subresourcesOf(def, extraSubresources)) {
      const foreign = sub.responseKind.group !== def.group || sub.responseKind.version !== def.version;
      resources.push({
        name: `${def.plural}/${sub.name}`,
        singularName: '',
        namespaced: def.namespaced,
        ...(foreign ? { group: sub.responseKind.group, version: sub.responseKind.version } : {}),
        kind: sub.responseKind.kind,
        verbs: sub.verbs,
      });
    }
  }
  const groupVersion = groupVersionString(group, version);
  return group === ''
    ? { kind: 'APIResourceList', groupVersion, resources }
    : { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function groupEntry(kinds: readonly KindDefinition[], group: string): APIGroup {
  const versions = groupVersions(kinds)
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: groupVersionString(group, gv.version), version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

// ---- aggregated discovery (apidiscovery.k8s.io) ----

export interface APISubresourceDiscovery {
  subresource: string;
  responseKind: GroupVersionKind;
  verbs: string[];
}

export interface APIResourceDiscovery {
  resource: string;
  responseKind: GroupVersionKind;
  scope: 'Namespaced' | 'Cluster';
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: APISubresourceDiscovery[];
}

export interface APIVersionDiscovery {
  version: string;
  resources: APIResourceDiscovery[];
  freshness: 'Current';
}

export interface APIGroupDiscovery {
  /** `name` is omitted for the core group: ObjectMeta.name is `omitempty`. */
  metadata: { name?: string; creationTimestamp: null };
  versions: APIVersionDiscovery[];
}

export interface APIGroupDiscoveryList {
  apiVersion: 'apidiscovery.k8s.io/v2' | 'apidiscovery.k8s.io/v2beta1';
  kind: 'APIGroupDiscoveryList';
  metadata: Record<string, never>;
  items: APIGroupDiscovery[];
}

/** The aggregated document served at `/api` (scope 'core': the core group only) or
 * `/apis` (scope 'apis': every named group), in the requested apidiscovery version; v2
 * and v2beta1 have the same shape. */
export function aggregatedDiscovery(
  kinds: readonly KindDefinition[],
  scope: 'core' | 'apis',
  extraSubresources: readonly ExtraSubresource[],
  version: 'v2' | 'v2beta1' = 'v2',
): APIGroupDiscoveryList {
  const inScope = kinds.filter((def) => (scope === 'core') === (def.group === ''));
  const items = distinct(inScope.map((def) => def.group)).map(
    (group): APIGroupDiscovery => ({
      metadata: group === '' ? { creationTimestamp: null } : { name: group, creationTimestamp: null },
      versions: groupVersions(inScope)
        .filter((gv) => gv.group === group)
        .map((gv) => ({
          version: gv.version,
          resources: sortedByPlural(kindsOf(inScope, group, gv.version)).map((def) =>
            resourceDiscovery(def, extraSubresources),
          ),
          freshness: 'Current',
        })),
    }),
  );
  return { apiVersion: `apidiscovery.k8s.io/${version}`, kind: 'APIGroupDiscoveryList', metadata: {}, items };
}

function resourceDiscovery(def: KindDefinition, extras: readonly ExtraSubresource[]): APIResourceDiscovery {
  const subresources = subresourcesOf(def, extras).map((sub) => ({
    subresource: sub.name,
    responseKind: sub.responseKind,
    verbs: sub.verbs,
  }));
  return {
    resource: def.plural,
    responseKind: gvkOf(def),
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: verbsOf(def),
    ...nonEmpty('shortNames', def.shortNames),
    ...nonEmpty('categories', def.categories),
    ...nonEmpty('subresources', subresources),
  };
}

/**
 * Picks the discovery format for an Accept header. kubectl and client-go send
 * `AGGREGATED_DISCOVERY_V2,AGGREGATED_DISCOVERY_V2BETA1,application/json` and expect the
 * first acceptable one. Media ranges are ranked by q-value (RFC 9110 §12.5.1), ties
 * keeping header order; q=0 excludes. A range with the apidiscovery g/v/as parameters
 * selects that version; plain JSON or a wildcard selects the legacy documents. Anything
 * else (protobuf, an unknown version) is skipped, and when nothing is left the legacy
 * JSON documents are served.
 */
export function negotiateDiscovery(acceptHeader: string | undefined): DiscoveryFormat {
  const ranges = parseAccept(acceptHeader ?? '')
    .filter((range) => range.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const range of ranges) {
    const format = formatOf(range);
    if (format) return format;
  }
  return 'legacy';
}

interface MediaRange {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
}

function formatOf(range: MediaRange): DiscoveryFormat | undefined {
  const { type, subtype, params } = range;
  const json = (type === 'application' && (subtype === 'json' || subtype === '*')) || (type === '*' && subtype === '*');
  if (!json) return undefined;
  const g = params.get('g');
  const v = params.get('v');
  const as = params.get('as');
  if (g === undefined && v === undefined && as === undefined) return 'legacy';
  if (g !== 'apidiscovery.k8s.io' || as !== 'APIGroupDiscoveryList') return undefined;
  return v === 'v2' || v === 'v2beta1' ? v : undefined;
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [mediaType, ...rawParams] = part.split(';').map((s) => s.trim());
    const slash = mediaType.indexOf('/');
    if (slash <= 0) continue;
    const params = new Map<string, string>();
    let q = 1;
    for (const raw of rawParams) {
      const eq = raw.indexOf('=');
      if (eq <= 0) continue;
      const name = raw.slice(0, eq).trim().toLowerCase();
      const value = raw
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (name === 'q') {
        const parsed = Number(value);
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      } else {
        params.set(name, value);
      }
    }
    ranges.push({
      type: mediaType.slice(0, slash).toLowerCase(),
      subtype: mediaType.slice(slash + 1).toLowerCase(),
      params,
      q,
    });
  }
  return ranges;
}

// ---- helpers ----

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedByPlural(defs: KindDefinition[]): KindDefinition[] {
  return [...defs].sort((a, b) => compare(a.plural, b.plural));
}

function distinct<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** `{ [key]: values }` when there are values: the Go `omitempty` rule for slices. */
function nonEmpty<K extends string, T>(key: K, values: readonly T[]): { [P in K]?: T[] } {
  return (values.length > 0 ? { [key]: [...values] } : {}) as { [P in K]?: T[] };
}
