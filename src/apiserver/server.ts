// Composition root of the API server: storage, registry, authentication and the HTTP
// handler, listening on one address. Stopping closes open watches, then storage.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { KindDefinition } from '../api/kind.ts';
import { aggregatedKinds, servedKinds } from '../api/kinds.ts';
import { GATEHOUSE_VERSION } from '../api/version.ts';
import type { KubeClient } from '../client/rest.ts';
import type { Storage } from '../storage/storage.ts';
import { DEFAULT_API_HISTORY_LIMIT } from '../api/kinds/api-definition/history.ts';
import { ApiHistory } from './api-history.ts';
import { openAuditLog, type AuditLogOptions } from './audit/audit-log.ts';
import type { Authenticator, Authorizer } from './auth/auth.ts';
import type { Delegation } from './auth/delegated/delegation.ts';
import { startAuthentication } from './auth/authentication.ts';
import { tokenRequestSubresource } from './auth/service-account/token-request.ts';
import type { ServiceAccountTokenOptions } from './auth/service-account/tokens.ts';
import { authenticationReviewAnswerers } from './authentication-reviews.ts';
import { privilegedGroups, unionAuthorizer } from './auth/authorizer-union.ts';
import { startRbac } from './auth/rbac/rbac.ts';
import { accessReviewAnswerers } from './access-reviews.ts';
import { rulesReviewAnswerer } from './rules-reviews.ts';
import { ClusterNamespaces } from './cluster-namespaces.ts';
import { budgetedCounters } from './counter-budget.ts';
import { Connections, defaultConnectionLimits, serverTimeouts, type ConnectionLimits } from './connections.ts';
import { delegatedSubresources, type DelegationTiming } from './delegated-subresources.ts';
import { startGarbageCollection, type GarbageCollectionOptions } from './gc/garbage-collection.ts';
import { GitOpsLock } from './gitops-lock.ts';
import { createHandler } from './http/handler.ts';
import { admitLeaseDuration } from './lease-bounds.ts';
import { Registry } from './registry/registry.ts';
import type { ResourceStore } from './registry/store.ts';

export const KUBERNETES_COMPATIBILITY = { major: '1', minor: '32' };

export interface ApiServerOptions {
  storage: Storage;
  host?: string;
  port?: number;
  /** PEM certificate and key to serve HTTPS with (see tls.ts for a self-signed one). */
  tls: { cert: string; key: string };
  /** kube-apiserver style static token file; without one every request is an administrator. */
  tokenFile?: string;
  /** kube-apiserver's --client-ca-file: PEM CAs whose client certificates authenticate (x509.ts). */
  clientCaFile?: string;
  /** Keys and issuer of ServiceAccount tokens; without them ServiceAccounts have no token subresource. */
  serviceAccountTokens?: ServiceAccountTokenOptions;
  authenticator?: Authenticator;
  authorizer?: Authorizer;
  /** kube-apiserver's --audit-*: record requests by a policy to a file (audit/); none without it. */
  audit?: AuditLogOptions;
  kinds?: KindDefinition[];
  /** Aggregated mode: the cluster's API (kube-apiserver), which keeps Namespaces, RBAC, ServiceAccounts and
   * Leases. Only gatehouse.dev is served, creates are checked against the cluster's namespaces, and
   * replicas elect their garbage collector on a Lease there, in `namespace` (the server's own). */
  cluster?: { client: KubeClient; namespace: string };
  /** Aggregated mode's authentication and authorization (auth/delegated/): the cluster's front proxy, client
   * CA, TokenReview and SubjectAccessReview instead of the token file, client CA and RBAC. Closed with the
   * server. */
  delegatedAccess?: Delegation;
  /** Bounds of the subresources other components answer (delegated-subresources.ts). */
  delegation?: DelegationTiming;
  logger?: Logger;
  version?: string;
  /** Timeouts and the connection cap; kube-apiserver's timeouts by default (connections.ts). */
  connections?: Partial<ConnectionLimits>;
  /** kube-apiserver's --min-request-timeout: a watch lasts between it and twice it. */
  minRequestTimeoutSeconds?: number;
  /** kube-apiserver's --request-timeout: every request but a watch is answered within it (60 s by default). */
  requestTimeoutMs?: number;
  /** The garbage collector of ownerReferences (gc/); `elect` when several replicas share the storage. */
  garbageCollection?: Omit<GarbageCollectionOptions, 'onError'>;
  /** Generations kept in each ApiDefinition's history (api-history.ts); 50 by default. */
  apiHistoryLimit?: number;
}

export interface ApiServer {
  url: string;
  port: number;
  registry: Registry;
  server: Server;
  /** Stops accepting requests, ends open watches, then closes storage. */
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { cluster } = options;
  const clusterNamespaces =
    cluster &&
    new ClusterNamespaces(cluster.client, (err) =>
      options.logger?.warn({ err }, "watching the cluster's namespaces failed; retrying"),
    );
  const kinds = options.kinds ?? (cluster ? aggregatedKinds : servedKinds);
  const history = new ApiHistory({
    storage: options.storage,
    limit: options.apiHistoryLimit ?? DEFAULT_API_HISTORY_LIMIT,
    store: (group, plural): ResourceStore | undefined => registry.store(group, plural),
  });
  const registry: Registry = new Registry(kinds, options.storage, clusterNamespaces, history);
  // Elected replicas empty terminating namespaces only while they hold the garbage collector's Lease.
  registry.sweepNamespaces(!options.garbageCollection?.elect);
  await registry.bootstrap();
  const stopAuthentication = new AbortController();
  const clientCa = options.clientCaFile === undefined ? undefined : await readFile(options.clientCaFile, 'utf8');
  const { tokenFile, serviceAccountTokens } = options;
  const authentication = await startAuthentication(
    {
      tokenFile,
      onTokenFileError: (err) => options.logger?.warn({ err, tokenFile }, 'token file unreadable; old tokens stay'),
      serviceAccountTokens,
      clientCertificates: clientCa !== undefined,
    },
    registry,
    stopAuthentication.signal,
  );
  const authenticator = options.authenticator ?? options.delegatedAccess?.authenticator ?? authentication.authenticator;
  const tokens = authentication.serviceAccountTokens;
  const tokenRequests = tokens ? [tokenRequestSubresource(tokens)] : [];
  // In aggregated mode RBAC is the cluster's, asked by the authorizer given (SubjectAccessReview).
  const rbac = cluster
    ? undefined
    : await startRbac(registry, (err, role) => options.logger?.error({ err, role }, 'ClusterRole aggregation failed'));
  // kube-apiserver's chain: system:masters may do anything, then RBAC decides.
  const authorizer =
    options.authorizer ??
    options.delegatedAccess?.authorizer ??
    unionAuthorizer(privilegedGroups('system:masters'), ...(rbac ? [rbac.authorizer] : []));
  const escalation = rbac?.escalationCheck(authorizer);
  const garbageCollection = startGarbageCollection(registry, {
    elect: false,
    ...options.garbageCollection,
    onLeading: (leading) => {
      registry.sweepNamespaces(leading);
      options.garbageCollection?.onLeading?.(leading);
    },
    leases: cluster,
    onError: (err) => options.logger?.warn({ err }, 'garbage collection failed; retrying'),
  });
  const gitVersion = `v${KUBERNETES_COMPATIBILITY.major}.${KUBERNETES_COMPATIBILITY.minor}.0+gatehouse-${options.version ?? GATEHOUSE_VERSION}`;
  const audit = options.audit && openAuditLog(options.audit, (msg, err) => options.logger?.error({ err }, msg));
  const lock = await GitOpsLock.start(registry, {
    authorizer,
    onOverride: (user, annotations) => audit?.annotate(user, annotations),
    onError: (err) => options.logger?.warn({ err }, 'watching Syncs for the GitOps lock failed; retrying'),
  });
  const handler = createHandler({
    registry,
    authenticator,
    authorizer: audit?.recordingDecisions(authorizer) ?? authorizer,
    audit,
    admit: async (user, def, obj, old) => {
      if (obj) {
        await escalation?.admit({ user, def, obj, old });
        admitLeaseDuration(user, def, obj);
      }
      await lock?.admit(user, def, obj, old);
    },
    subresources: [...delegatedSubresources(registry, options.delegation), ...tokenRequests, history.subresource()],
    answerers: [
      ...accessReviewAnswerers(authorizer),
      ...(rbac ? [rulesReviewAnswerer(rbac.rulesFor)] : []),
      ...authenticationReviewAnswerers(authentication.tokens, authentication.apiAudiences),
    ],
    counters: budgetedCounters(options.storage),
    healthChecks: [
      { name: 'ping', check: async () => {} },
      // Readiness only: storage out of reach takes the replica out of its Service; restarting it would not help.
      { name: 'storage', readinessOnly: true, check: async () => void (await options.storage.currentRevision()) },
      { name: 'storage-writable', readinessOnly: true, check: () => options.storage.checkWritable() },
      ...(clusterNamespaces ? [clusterNamespaces.readiness] : []),
    ],
    version: {
      ...KUBERNETES_COMPATIBILITY,
      gitVersion,
      gitCommit: '',
      gitTreeState: 'clean',
      buildDate: '',
      goVersion: `node${process.versions.node}`,
      compiler: 'node',
      platform: `${process.platform}/${process.arch}`,
    },
    onError: (err, req) =>
      options.logger?.error({ err, method: req.method, path: req.url?.split('?')[0] }, 'request failed'),
    onAuthenticated: (req) => connections.authenticated(req),
    minRequestTimeoutSeconds: options.minRequestTimeoutSeconds,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  const limits = { ...defaultConnectionLimits(), ...options.connections };
  const server: Server = createHttpsServer(
    {
      cert: options.tls.cert,
      key: options.tls.key,
      // A client certificate is asked for, not required: without one (or with one the CA did not sign) a
      // request may still authenticate otherwise; x509.ts reads whether the chain was verified.
      ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: false }),
      // Delegated: the CAs change while the server runs, so each authenticator verifies the chain itself.
      ...(options.delegatedAccess ? { requestCert: true, rejectUnauthorized: false } : {}),
      ...serverTimeouts(limits),
    },
    handler as (req: IncomingMessage, res: ServerResponse) => void,
  );
  const connections = new Connections(server, limits.maxConnections);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `https://${host}:${address.port}`,
    port: address.port,
    registry,
    server,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Watches never end on their own; their sockets are cut so close() returns promptly.
      connections.destroyAll();
      await closed;
      // Every request has ended: its events are queued; they are written before close() returns.
      await audit?.close();
      await garbageCollection.stop();
      lock?.close();
      rbac?.close();
      await options.delegatedAccess?.close();
      registry.close();
      stopAuthentication.abort();
      await options.storage.close();
    },
  };
}
