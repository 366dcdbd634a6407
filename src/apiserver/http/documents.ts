// Serves discovery and OpenAPI documents. They depend only on the kinds and subresources
// served, so each is rendered once, when the server starts (prerender), and served from memory
// with an ETag: kube-apiserver's aggregator and every client's discovery ask for them often, and a
// slow answer stalls the whole cluster's discovery (kubernetes/kubernetes#82172).
import { createHash } from 'node:crypto';
import type { KindDefinition } from '../../api/kind.ts';
import {
  AGGREGATED_DISCOVERY_V2,
  AGGREGATED_DISCOVERY_V2BETA1,
  aggregatedDiscovery,
  legacyCoreVersions,
  legacyGroup,
  legacyGroupList,
  legacyResourceList,
  negotiateDiscovery,
  type ExtraSubresource,
} from './discovery.ts';
import { parseAccept } from './negotiate.ts';
import { openApiHash, openApiV2, openApiV3GroupVersion, openApiV3Root } from './openapi.ts';
import { openApiV2Protobuf } from './openapi-protobuf.ts';

export interface Document {
  /** 200 unless the document cannot be served in any media type the client accepts (406). */
  code?: number;
  body: Buffer;
  headers: Record<string, string>;
  notModified(ifNoneMatch: string | undefined): boolean;
}

function documentOf(
  value: unknown,
  contentType: string,
  etag?: string,
  body: Buffer = Buffer.from(JSON.stringify(value)),
): Document {
  const tag = `"${etag ?? createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
  return {
    body,
    headers: { 'content-type': contentType, etag: tag, vary: 'Accept', 'cache-control': 'no-cache, private' },
    notModified: (ifNoneMatch) =>
      ifNoneMatch
        ?.split(',')
        .map((s) => s.trim())
        .includes(tag) ?? false,
  };
}

const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** What `/openapi/v2` is served as, by the media type asked for, as kube-openapi's handler: both
 * spellings of gnostic's protobuf type answer with the one without `@`. */
const OPENAPI_V2_TYPES: Array<[accepted: string, served: string]> = [
  ['application/json', 'application/json'],
  ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', OPENAPI_V2_PROTOBUF],
  [OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF],
];

/** The media type `/openapi/v2` is served as: the first accepted range (by preference) that one of
 * ours matches, a wildcard matching the first of ours; undefined when none does (406). */
function openApiV2MediaType(accept: string | undefined): string | undefined {
  for (const range of parseAccept(accept?.trim() ? accept : '*/*')) {
    const [type, subtype] = range.type.split('/');
    const match = OPENAPI_V2_TYPES.find(([accepted]) => {
      const [t, s] = accepted.split('/');
      return (type === '*' || type === t) && (subtype === '*' || subtype === s);
    });
    if (match) return match[1];
  }
  return undefined;
}

/** kube-openapi answers an Accept it cannot serve with a bare 406: no Status, no body. */
const OPENAPI_NOT_ACCEPTABLE: Document = {
  code: 406,
  body: Buffer.alloc(0),
  headers: { vary: 'Accept', 'cache-control': 'no-cache, private' },
  notModified: () => false,
};

export class DiscoveryDocuments {
  private readonly kinds: KindDefinition[];
  private readonly extras: ExtraSubresource[];
  private readonly cache = new Map<string, Document | null>();

  constructor(kinds: KindDefinition[], extras: ExtraSubresource[]) {
    this.kinds = kinds;
    this.extras = extras.map(({ kind, name, verbs, responseKind }) => ({
      kind,
      name,
      verbs,
      ...(responseKind ? { responseKind } : {}),
    }));
  }

  private cached(key: string, render: () => Document | undefined): Document | undefined {
    if (!this.cache.has(key)) this.cache.set(key, render() ?? null);
    return this.cache.get(key) ?? undefined;
  }

  /** Renders every document a client may ask for, in every media type, so none is rendered on a request. */
  prerender(): void {
    const discovery = ['application/json', AGGREGATED_DISCOVERY_V2, AGGREGATED_DISCOVERY_V2BETA1];
    const versions = new Set(this.kinds.map((k) => (k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`)));
    const groups = new Set(this.kinds.filter((k) => k.group).map((k) => `/apis/${k.group}`));
    const documents: Array<[path: string, accepts: string[]]> = [
      ['/api', discovery],
      ['/apis', discovery],
      ['/openapi/v2', OPENAPI_V2_TYPES.map(([accepted]) => accepted)],
      ['/openapi/v3', ['application/json']],
      ...[...versions].map((v): [string, string[]] => [`/openapi/v3${v}`, ['application/json']]),
      ...[...groups, ...versions].map((p): [string, string[]] => [p, ['application/json']]),
    ];
    for (const [path, accepts] of documents) for (const accept of accepts) this.serve(path, accept, '');
  }

  /** The document at `path`, or undefined when the path is not a document path. */
  serve(path: string, accept: string | undefined, serverAddress: string): Document | undefined {
    if (path === '/api' || path === '/apis') {
      const scope = path === '/api' ? 'core' : 'apis';
      // Aggregated, the core group is the cluster's: no /api at all, as an extension API server.
      if (scope === 'core' && !this.kinds.some((k) => k.group === '')) return undefined;
      const format = negotiateDiscovery(accept);
      if (format === 'legacy') {
        if (scope === 'core') return documentOf(legacyCoreVersions(serverAddress), 'application/json');
        return this.cached('/apis', () => documentOf(legacyGroupList(this.kinds), 'application/json'));
      }
      const contentType = format === 'v2' ? AGGREGATED_DISCOVERY_V2 : AGGREGATED_DISCOVERY_V2BETA1;
      return this.cached(`${path}:${format}`, () =>
        documentOf(aggregatedDiscovery(this.kinds, scope, this.extras, format), contentType),
      );
    }
    if (path === '/openapi/v2') {
      const type = openApiV2MediaType(accept);
      if (!type) return OPENAPI_NOT_ACCEPTABLE;
      return this.cached(`${path}:${type}`, () => {
        // Both encodings carry the JSON's ETag, as kube-apiserver's (the response varies by Accept).
        const doc = openApiV2(this.kinds, this.extras);
        const body = type === OPENAPI_V2_PROTOBUF ? openApiV2Protobuf(doc) : undefined;
        return documentOf(doc, type, openApiHash(doc), body);
      });
    }
    if (path === '/openapi/v3')
      return this.cached(path, () => documentOf(openApiV3Root(this.kinds, this.extras), 'application/json'));
    const v3 = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (v3) {
      const [group, version] = v3[1] ? ['', v3[1]] : [v3[2], v3[3]];
      return this.cached(path, () => {
        const doc = openApiV3GroupVersion(this.kinds, group, version, this.extras);
        return doc && documentOf(doc, 'application/json', openApiHash(doc));
      });
    }
    const groupPath = /^\/apis\/([^/]+)$/.exec(path);
    if (groupPath) {
      return this.cached(path, () => {
        const group = legacyGroup(this.kinds, groupPath[1]);
        return group && documentOf(group, 'application/json');
      });
    }
    const versionPath = /^\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (versionPath) {
      const [group, version] = versionPath[1] ? ['', versionPath[1]] : [versionPath[2], versionPath[3]];
      return this.cached(path, () => {
        const list = legacyResourceList(this.kinds, group, version, this.extras);
        return list && documentOf(list, 'application/json');
      });
    }
    return undefined;
  }
}
