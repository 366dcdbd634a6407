// The API catalogues bench/gateway.ts serves, written through the Kubernetes API: one
// namespace per catalogue size, each with a keyless API on the same listenPath (the route
// every load run hits) and filler APIs to reach the size. The small catalogue also holds an
// apiKey API with an API rate limit and a consumer rate limit and quota, all far above any
// count reached here.
import { apiDefinitionKind } from '../../src/api/kinds/api-definition/index.ts';
import { apiKeyKind } from '../../src/api/kinds/api-key/index.ts';
import { consumerKind } from '../../src/api/kinds/consumer/index.ts';
import { securityPolicyKind } from '../../src/api/kinds/security-policy/index.ts';
import { namespaceKind } from '../../src/api/core/namespace/index.ts';
import type { KubeObject } from '../../src/api/kind.ts';
import type { KubeClient } from '../../src/client/rest.ts';

export const KEYLESS = { name: 'keyless', listenPath: '/keyless' };
export const KEYED = { name: 'keyed', listenPath: '/keyed', header: 'x-api-key' };
/** A limit no run reaches: the limiter runs (and sets RateLimit-* headers) but never refuses. */
const UNREACHED_LIMIT = { requests: 1_000_000_000, per: '1s' };
const CREATE_CLIENTS = 16;

const GROUP_VERSION = 'gatehouse.dev/v1alpha1';

function api(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: GROUP_VERSION, kind: 'ApiDefinition', metadata: { name, namespace }, spec };
}

/** Creates `size` ApiDefinitions in `namespace` (one of them KEYLESS) proxying to `upstream`. */
export async function createCatalogue(
  client: KubeClient,
  namespace: string,
  size: number,
  upstream: string,
): Promise<void> {
  await client.create(namespaceKind, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await client.create(
    apiDefinitionKind,
    api(namespace, KEYLESS.name, { listenPath: KEYLESS.listenPath, upstream: { targets: [{ url: upstream }] } }),
  );
  let next = 1;
  await Promise.all(
    Array.from({ length: CREATE_CLIENTS }, async () => {
      for (let i = next++; i < size; i = next++) {
        await client.create(
          apiDefinitionKind,
          api(namespace, `filler-${i}`, {
            listenPath: `/filler-${i}/v1`,
            upstream: { targets: [{ url: `${upstream}/filler/${i}` }] },
          }),
        );
      }
    }),
  );
}

/** Adds KEYED to `namespace` with a consumer allowed to call it; resolves with the consumer's API key. */
export async function addKeyedApi(client: KubeClient, namespace: string, upstream: string): Promise<string> {
  await client.create(
    apiDefinitionKind,
    api(namespace, KEYED.name, {
      listenPath: KEYED.listenPath,
      auth: { type: 'apiKey', apiKey: { header: KEYED.header } },
      rateLimit: UNREACHED_LIMIT,
      upstream: { targets: [{ url: upstream }] },
    }),
  );
  await client.create(securityPolicyKind, {
    apiVersion: GROUP_VERSION,
    kind: 'SecurityPolicy',
    metadata: { name: 'bench', namespace },
    spec: { apis: [{ name: KEYED.name }], rateLimit: UNREACHED_LIMIT, quota: { max: 1_000_000_000, per: '24h' } },
  });
  await client.create(consumerKind, {
    apiVersion: GROUP_VERSION,
    kind: 'Consumer',
    metadata: { name: 'bench', namespace },
    spec: { policies: ['bench'] },
  });
  const key = await client.create<KubeObject & { status?: { key?: string } }>(apiKeyKind, {
    apiVersion: GROUP_VERSION,
    kind: 'ApiKey',
    metadata: { name: 'bench', namespace },
    spec: { consumer: 'bench' },
  });
  if (!key.status?.key) throw new Error('the API server minted no key (status.key missing)');
  return key.status.key;
}
