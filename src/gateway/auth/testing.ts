// Fixtures for the unit tests of this folder: objects as the API server would hand them to
// the gateway, and the request context a step sees.
import type { IncomingMessage } from 'node:http';
import type { ApiDefinition, Auth } from '../../api/kinds/api-definition/index.ts';
import type { ApiKey } from '../../api/kinds/api-key/index.ts';
import type { Consumer } from '../../api/kinds/consumer/index.ts';
import type { SecurityPolicy } from '../../api/kinds/security-policy/index.ts';
import { Limiters } from '../limiters.ts';
import { pathSegments } from '../path.ts';
import type { RequestContext } from '../policies.ts';
import { SharedCounters } from '../shared-counters.ts';
import { ConsumerDirectory } from './consumers.ts';

export const apiDefinition = (auth: Auth, name = 'orders', namespace = 'shop'): ApiDefinition => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'ApiDefinition',
  metadata: { name, namespace },
  spec: {
    active: true,
    visibility: 'public',
    listenPath: `/${name}`,
    stripListenPath: false,
    upstream: { targets: [{ url: 'http://127.0.0.1:1' }], timeout: '30s', connectTimeout: '5s', retries: 0 },
    auth,
  },
});

export const apiKey = (name: string, spec: Partial<ApiKey['spec']> & Pick<ApiKey['spec'], 'hash'>): ApiKey => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'ApiKey',
  metadata: { name, namespace: 'shop' },
  spec: { consumer: 'acme', prefix: 'gh_', ...spec },
});

export const consumer = (name: string, policies: string[], jwtSubjects: string[] = []): Consumer => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'Consumer',
  metadata: { name, namespace: 'shop' },
  spec: { policies, jwtSubjects },
});

export const policy = (name: string, spec: SecurityPolicy['spec']): SecurityPolicy => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'SecurityPolicy',
  metadata: { name, namespace: 'shop' },
  spec,
});

/** A directory whose limiters count in this process only. */
export const directory = (consumers: Consumer[], policies: SecurityPolicy[]) =>
  new ConsumerDirectory(consumers, policies, new Limiters(new SharedCounters()));

export function requestContext(authorization?: string, method = 'GET', rest = '/'): RequestContext {
  const req = { method, headers: authorization === undefined ? {} : { authorization } } as IncomingMessage;
  return { req, clientIp: '127.0.0.1', rest, segments: pathSegments(rest), depth: 0, query: '', responseHeaders: {} };
}
