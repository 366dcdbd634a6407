// Serves discovery and OpenAPI documents. They depend only on the kinds and subresources
// served, so each is rendered once, on first request, and served with an ETag.
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
import { openApiHash, openApiV2, openApiV3GroupVersion, openApiV3Root } from './openapi.ts';

export interface Document {
  body: Buffer;
  headers: Record<string, string>;
  notModified(ifNoneMatch: string | undefined): boolean;
}

function documentOf(value: unknown, contentType: string, etag?: string): Document {
  const body = Buffer.from(JSON.stringify(value));
  const tag = `"${etag ?? createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
  return {
    body,
    headers: { 'content-type': contentType, etag: tag, vary: 'Accept', 'cache-control': 'no-cache, private' },
    notModified: (ifNoneMatch) => ifNoneMatch !== undefined && ifNoneMatch.split(',').map((s) => s.trim()).includes(tag),
  };
}

export class DiscoveryDocuments {
  private readonly kinds: KindDefinition[];
  private readonly extras: ExtraSubresource[];
  private readonly cache = new Map<string, Document | null>();

  constructor(kinds: KindDefinition[], extras: ExtraSubresource[]) {
    this.kinds = kinds;
    this.extras = extras.map(({ kind, name, verbs, responseKind }) => ({ kind, name, verbs, ...(responseKind ? { responseKind } : {}) }));
  }

  private cached(key: string, render: () => Document | undefined): Document | undefined {
    if (!this.cache.has(key)) this.cache.set(key, render() ?? null);
    return this.cache.get(key) ?? undefined;
  }

  /** The document at `path`, or undefined when the path is not a document path. */
  serve(path: string, accept: string | undefined, serverAddress: string): Document | undefined {
    if (path === '/api' || path === '/apis') {
      const scope = path === '/api' ? 'core' : 'apis';
      const format = negotiateDiscovery(accept);
      if (format === 'legacy') {
        if (scope === 'core') return documentOf(legacyCoreVersions(serverAddress), 'application/json');
        return this.cached('/apis', () => documentOf(legacyGroupList(this.kinds), 'application/json'));
      }
      const contentType = format === 'v2' ? AGGREGATED_DISCOVERY_V2 : AGGREGATED_DISCOVERY_V2BETA1;
      return this.cached(`${path}:${format}`, () => documentOf(aggregatedDiscovery(this.kinds, scope, this.extras, format), contentType));
    }
    if (path === '/openapi/v2') return this.cached(path, () => documentOf(openApiV2(this.kinds, this.extras), 'application/json'));
    if (path === '/openapi/v3') return this.cached(path, () => documentOf(openApiV3Root(this.kinds, this.extras), 'application/json'));
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
