// The gateway's composition root: it wires the config (watched through the Kubernetes API,
// compiled by config.ts, last good copy on disk), the status writer, metrics and the two
// listeners, which share one config and one request path (request-handler.ts): the public
// one serves public APIs; the internal one serves every API plus /metrics and /healthz.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { apiDefinitionKind, type ApiDefinition } from '../api/kinds/api-definition/index.ts';
import { apiKeyKind, type ApiKey } from '../api/kinds/api-key/index.ts';
import { consumerKind, type Consumer } from '../api/kinds/consumer/index.ts';
import { securityPolicyKind, type SecurityPolicy } from '../api/kinds/security-policy/index.ts';
import { Informer } from '../client/informer.ts';
import { loadClientConfig } from '../client/in-cluster.ts';
import { KubeClient } from '../client/rest.ts';
import { generationChanged } from '../controller/runtime/predicates.ts';
import { SubresourceResponder } from '../controller/runtime/responder.ts';
import { openAccessLog, type AccessLogOptions } from './access-log.ts';
import { ApiServerLink, lastGoodServed, type LastGoodFile } from './api-server-link.ts';
import { basicAuthSecretRefs, basicAuthSecrets } from './auth/basic.ts';
import { RemoteKeySets, type JwksCaching } from './auth/jwks.ts';
import {
  compileConfig,
  compiledApi,
  compiledApis,
  emptyInputs,
  type ApiChanges,
  type Carriers,
  type GatewayConfig,
  type GatewayInputs,
} from './config.ts';
import { LastGoodSaver, loadLastGood } from './last-good.ts';
import { Limiters } from './limiters.ts';
import { closeListener, createListener } from './listener.ts';
import { Metrics } from './metrics.ts';
import { apiServerExchange, SharedCounters } from './shared-counters.ts';
import { ReferencedSecrets } from './referenced-secrets.ts';
import { Prober, probeRefusal, type ProbeRequest, type ProbeResult } from './probe.ts';
import { refusedBeforeRouting, requestHandler, type OwnPages, type RequestPath } from './request-handler.ts';
import { StatusReporter, type ElectionTiming } from './status-reporter.ts';
import { Upstreams, type TargetHealth } from './upstream.ts';

export interface GatewayOptions {
  /** Path of the kubeconfig used to watch the API server; absent, the in-cluster configuration. */
  kubeconfig?: string;
  port: number;
  /** Port of the internal listener; 0 picks a free one. */
  internalPort?: number;
  host?: string;
  /** Watch one namespace; absent watches all. */
  namespace?: string;
  /** Label selector restricting which ApiDefinitions this gateway serves. */
  selector?: string;
  /** Where the last good config is kept. */
  dataDir: string;
  logger: Logger;
  /** How long to wait for the API server at start before serving the last good config. */
  startTimeoutMs?: number;
  /** How remote JSON Web Key Sets (spec.auth.jwt.jwksUri) are fetched and kept. */
  jwks?: JwksCaching;
  /** Lease timing of the election of the one gateway that writes ApiDefinition status. */
  statusElection?: ElectionTiming;
  /** How often an outage of the API server is summed up in the log. Default 60 s. */
  apiServerSummaryIntervalMs?: number;
  /** Which requests get an access log line, and where (default: all, to `logger`). */
  accessLog?: AccessLogOptions;
}

export interface Gateway {
  url: string;
  internalUrl: string;
  /** The config being served (for tests and the probe subresource). */
  config(): GatewayConfig;
  /** Health of every target of every API being served, by API id ("namespace/name"). */
  upstreamHealth(): Map<string, TargetHealth[]>;
  /** Sends one request through the live config to the API's route and reports how it
   * went; throws GatewayProbeError when it cannot be sent. */
  probe(namespace: string, name: string, request?: ProbeRequest): Promise<ProbeResult>;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { logger } = options;
  const client = new KubeClient(await loadClientConfig(options.kubeconfig));
  let fromDisk: LastGoodFile | undefined;
  const link = new ApiServerLink({
    server: client.config.server,
    logger,
    summaryIntervalMs: options.apiServerSummaryIntervalMs ?? 60_000,
    connected: () => informers.every((i) => i.connected),
    serving: () => lastGoodServed(config, fromDisk),
  });
  const upstreamHealth = () => new Map(compiledApis(config).map((api) => [api.id, api.targets.health()]));
  const metrics = new Metrics();
  const statusReporter = new StatusReporter({
    client,
    logger,
    scope: { namespace: options.namespace, selector: options.selector },
    config: () => config,
    health: (id) => compiledApi(config, id)?.targets.health(),
    current: (namespace, name) => apis.get(namespace, name),
    traffic: metrics.traffic,
    unreachable: (err, what) => link.failed(err, what),
    election: options.statusElection,
  });
  const upstreams = new Upstreams({
    healthChanged: (checker, healthy) => {
      const verdict = healthy ? 'upstream healthy again' : 'upstream unhealthy: out of rotation';
      logger.warn({ origin: checker.origin, path: checker.path, healthy }, verdict);
      statusReporter.verdictChanged(checker, healthy);
    },
    healthJudged: () => statusReporter.verdictJudged(),
    circuitChanged: (api, target, state) => {
      logger.warn({ api, target, state }, `upstream circuit ${state}`);
      statusReporter.circuitChanged(api, target, state);
    },
  });
  const keySets = new RemoteKeySets(options.jwks);
  // Every gateway process shares its rate limit and quota counts through the API server.
  const counters = new SharedCounters({ exchange: apiServerExchange(client), logger });
  const carriers: Carriers = { upstreams, keySets, limiters: new Limiters(counters) };
  let config = compileConfig(emptyInputs(), 0, 'empty', carriers);
  let generation = 0;
  let configured!: () => void;
  const firstConfig = new Promise<void>((resolve) => (configured = resolve));

  const swap = (inputs: GatewayInputs, source: GatewayConfig['source'], changed?: ApiChanges) => {
    config = compileConfig(inputs, ++generation, source, carriers, config, changed);
    configured();
    statusReporter.changed();
    for (const problem of config.problems) logger.warn({ generation }, problem);
    logger.info({ generation, source, apis: inputs.apis.length }, 'gateway config swapped');
  };

  // Watches: ApiDefinitions by namespace and selector; the objects they refer to by namespace.
  // Their failures and reconnections go to the link, which logs an outage once, not per retry.
  const watch = (kind: string) => ({
    namespace: options.namespace,
    onError: (err: unknown) => link.failed(err, `watch of ${kind}`),
    onConnected: () => link.reconnected(),
  });
  const apiWatch = { ...watch('ApiDefinition'), labelSelector: options.selector };
  const apis = new Informer<ApiDefinition>(client, apiDefinitionKind, apiWatch);
  const policies = new Informer<SecurityPolicy>(client, securityPolicyKind, watch('SecurityPolicy'));
  const consumers = new Informer<Consumer>(client, consumerKind, watch('Consumer'));
  const apiKeys = new Informer<ApiKey>(client, apiKeyKind, watch('ApiKey'));
  const informers = [apis, policies, consumers, apiKeys];
  // Secrets are read one by one, only those the served APIs refer to (referenced-secrets.ts).
  const secrets = new ReferencedSecrets(client, {
    onChange: () => recompile(),
    unreachable: (err, what) => link.failed(err, what),
    logger,
  });
  let live = false;
  let pending = false;
  const lastGood = new LastGoodSaver(options.dataDir, logger);
  // Changes arriving together (a Sync applying many objects) make one new config.
  // A flood of changes (a Sync writing thousands of objects) must not recompile a large
  // config per batch of events. A change that comes within the last compile's duration of
  // it is compiled at once the first time (one edit right after another is not a flood);
  // from the second such change on, the next compile waits out that duration, so
  // compiling takes at most about half of the event loop while changes keep coming. A
  // small config compiles in well under a millisecond and is never delayed.
  let lastCompileMs = 0;
  let lastCompileEnd = 0;
  let crowded = false;
  // ApiDefinitions changed since the last compile, so that it looks at those only; undefined
  // after a (re)list, when every ApiDefinition is compared with the one compiled before.
  let apiChanges: Map<string, ApiDefinition | undefined> | undefined;
  const recompile = () => {
    if (!live || pending) return;
    pending = true;
    const run = () => {
      const served = apis.items();
      // An API referring to a Secret not read yet is compiled once the Secret answered, not left out first.
      const reading = secrets.follow(basicAuthSecretRefs(served));
      if (reading) return void reading.then(run);
      pending = false;
      const started = performance.now();
      const inputs: GatewayInputs = {
        apis: served,
        policies: policies.items(),
        consumers: consumers.items(),
        apiKeys: apiKeys.items(),
        secrets: basicAuthSecrets(served, secrets.items()),
      };
      const changed = config.source === 'apiserver' ? apiChanges : undefined;
      apiChanges = new Map();
      swap(inputs, 'apiserver', changed);
      lastGood.save(inputs);
      lastCompileEnd = performance.now();
      lastCompileMs = lastCompileEnd - started;
    };
    const wait = lastCompileMs - (performance.now() - lastCompileEnd);
    const delay = lastCompileMs >= 1 && wait > 0 && crowded;
    crowded = lastCompileMs >= 1 && wait > 0;
    if (delay) setTimeout(run, wait);
    else setImmediate(run);
  };
  // Status writes (this gateway's own among them) change no route: an ApiDefinition
  // recompiles the config only when its spec or deletion state changes.
  apis.onChange((change) => {
    if (change.type === 'SYNC') apiChanges = undefined;
    else if (generationChanged(change))
      apiChanges?.set(
        `${change.object.metadata.namespace}/${change.object.metadata.name}`,
        change.type === 'DELETED' ? undefined : change.object,
      );
    else return;
    recompile();
  });
  for (const informer of [policies, consumers, apiKeys]) informer.onChange(recompile);
  for (const informer of informers) informer.start();
  const allSynced = Promise.all(informers.map((i) => i.synced)).then(() => {
    live = true;
    recompile();
  });

  const startTimeout = options.startTimeoutMs ?? 5000;
  const timedOut = await Promise.race([
    allSynced.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(resolve, startTimeout, true).unref()),
  ]);
  if (timedOut) {
    const saved = await loadLastGood(options.dataDir);
    if (saved && !live) {
      fromDisk = { path: saved.path, savedAt: saved.savedAt };
      swap(saved.inputs, 'disk');
      logger.warn(
        { path: saved.path, savedAt: saved.savedAt },
        'API server unreachable: serving the last good config from disk until it answers',
      );
    } else if (!live) {
      logger.error(
        { dataDir: options.dataDir },
        'API server unreachable and no last good config on disk: serving no APIs until it answers',
      );
    }
  }
  // A restarted gateway reads the counts of its limits and quotas before it serves (within
  // one exchange timeout; when the API server does not answer, they are read later).
  if (live || generation > 0) await firstConfig;
  await counters.flush();

  const prober = new Prober();
  const accessLog = openAccessLog(logger, options.accessLog);
  const requestPath: RequestPath = { config: () => config, metrics, logger, accessLog, prober };
  // The internal listener's own pages; every other path is routed.
  const ownPages: OwnPages = (path, current) => {
    if (path !== '/metrics' && path !== '/healthz') return undefined;
    metrics.apiServerConnected = informers.every((i) => i.connected);
    metrics.counters = counters.stats();
    metrics.statusWriter = statusReporter.stats();
    if (path === '/healthz') return { contentType: 'text/plain', body: link.health() };
    return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: metrics.render(current) };
  };

  const host = options.host ?? '127.0.0.1';
  const refused = refusedBeforeRouting(requestPath);
  const publicServer = createListener(
    requestHandler(requestPath, (c) => c.public),
    refused,
  );
  const internalServer = createListener(
    requestHandler(requestPath, (c) => c.internal, ownPages),
    refused,
  );
  await Promise.all([
    listen(publicServer, options.port, host),
    listen(internalServer, options.internalPort ?? 0, host),
  ]);
  const urlOf = (s: Server) => `http://${host.includes(':') ? `[${host}]` : host}:${(s.address() as AddressInfo).port}`;
  const listeners = { public: urlOf(publicServer), internal: urlOf(internalServer) };
  statusReporter.start();
  // The probe subresource, called on whichever API server replica, reaches the gateways as
  // SubresourceRequests; one that has the API in its scope takes it.
  const responder = new SubresourceResponder({
    client,
    responder: 'gateway',
    namespace: options.namespace,
    logger,
    watch: watch('SubresourceRequest'),
    accepts: (r) => !options.selector || apis.get(r.metadata.namespace, r.spec.target.name) !== undefined,
    handlers: {
      'apidefinitions/probe': (r) =>
        prober.probe(config, listeners, r.metadata.namespace!, r.spec.target.name, r.spec.body).catch(probeRefusal),
    },
  }).start();

  return {
    url: listeners.public,
    internalUrl: listeners.internal,
    config: () => config,
    upstreamHealth,
    probe: (namespace, name, request) => prober.probe(config, listeners, namespace, name, request),
    async close() {
      // First, so another replica takes the status writer's lease over at once.
      await statusReporter.stop();
      await responder.stop();
      await Promise.all([...informers.map((i) => i.stop()), secrets.stop()]);
      link.stop();
      await Promise.all([publicServer, internalServer].map(closeListener));
      await Promise.all([lastGood.flush(), accessLog.close()]);
      // Counts not sent yet go to the API server, so the next gateway continues from them.
      await counters.close();
      await upstreams.close();
      await client.close();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
