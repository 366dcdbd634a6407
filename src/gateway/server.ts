// The gateway: composition root of config (watched through the Kubernetes API), router,
// policy chain, proxy, metrics and access log. Two listeners share one config: the public
// one serves public APIs; the internal one serves every API plus /metrics and /healthz.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { apiDefinitionKind, type ApiDefinition } from '../api/kinds/api-definition/index.ts';
import { apiKeyKind, type ApiKey } from '../api/kinds/api-key/index.ts';
import { consumerKind, type Consumer } from '../api/kinds/consumer/index.ts';
import { securityPolicyKind, type SecurityPolicy } from '../api/kinds/security-policy/index.ts';
import { Informer } from '../client/informer.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { KubeClient } from '../client/rest.ts';
import { compileConfig, emptyInputs, type CompiledApi, type GatewayConfig, type GatewayInputs } from './config.ts';
import { sendRefusal } from './errors.ts';
import { loadLastGood, saveLastGood } from './last-good.ts';
import { Metrics } from './metrics.ts';
import { parseRequestTarget } from './path.ts';
import type { RequestContext } from './policies.ts';
import { forward } from './proxy.ts';
import type { Router } from './router.ts';
import { Pools } from './upstream.ts';

export interface GatewayOptions {
  /** Path of the kubeconfig used to watch the API server. */
  kubeconfig: string;
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
}

export interface Gateway {
  url: string;
  internalUrl: string;
  /** The config being served (for tests and the probe subresource). */
  config(): GatewayConfig;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { logger } = options;
  const client = new KubeClient(await loadKubeconfig(options.kubeconfig));
  const pools = new Pools();
  const metrics = new Metrics();
  let config = compileConfig(emptyInputs(), 0, 'empty', pools);
  let generation = 0;

  const swap = (inputs: GatewayInputs, source: GatewayConfig['source']) => {
    config = compileConfig(inputs, ++generation, source, pools, config);
    for (const problem of config.problems) logger.warn({ generation }, problem);
    logger.info({ generation, source, apis: inputs.apis.length }, 'gateway config swapped');
  };

  // Watches: ApiDefinitions by namespace and selector; the objects they refer to by namespace.
  const watchErrors = (kind: string) => (err: unknown) => logger.warn({ err, kind }, 'watch failed; retrying');
  const scope = { namespace: options.namespace };
  const apis = new Informer<ApiDefinition>(client, apiDefinitionKind, { ...scope, labelSelector: options.selector, onError: watchErrors('ApiDefinition') });
  const policies = new Informer<SecurityPolicy>(client, securityPolicyKind, { ...scope, onError: watchErrors('SecurityPolicy') });
  const consumers = new Informer<Consumer>(client, consumerKind, { ...scope, onError: watchErrors('Consumer') });
  const apiKeys = new Informer<ApiKey>(client, apiKeyKind, { ...scope, onError: watchErrors('ApiKey') });
  const informers = [apis, policies, consumers, apiKeys];
  let live = false;
  let saving = Promise.resolve();
  let pending = false;
  // Changes arriving together (a Sync applying many objects) make one new config.
  const recompile = () => {
    if (!live || pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      const inputs: GatewayInputs = { apis: apis.items(), policies: policies.items(), consumers: consumers.items(), apiKeys: apiKeys.items() };
      swap(inputs, 'apiserver');
      saving = saving
        .then(() => saveLastGood(options.dataDir, inputs))
        .catch((err: unknown) => logger.error({ err, dataDir: options.dataDir }, 'could not save the last good gateway config'));
    });
  };
  for (const informer of informers) informer.onChange(recompile);
  for (const informer of informers) informer.start();
  const allSynced = Promise.all(informers.map((i) => i.synced)).then(() => {
    live = true;
    recompile();
  });

  const startTimeout = options.startTimeoutMs ?? 5000;
  const timedOut = await Promise.race([allSynced.then(() => false), new Promise<boolean>((resolve) => setTimeout(resolve, startTimeout, true).unref())]);
  if (timedOut) {
    const saved = await loadLastGood(options.dataDir);
    if (saved && !live) {
      swap(saved.inputs, 'disk');
      logger.warn({ path: saved.path, savedAt: saved.savedAt }, 'API server unreachable: serving the last good config from disk until it answers');
    } else if (!live) {
      logger.error({ dataDir: options.dataDir }, 'API server unreachable and no last good config on disk: serving no APIs until it answers');
    }
  }

  const handle = (router: (c: GatewayConfig) => Router<CompiledApi>, internal: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const current = config;
    const clientIp = req.socket.remoteAddress ?? '';
    let apiId = '';
    const done = (status: number) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe(apiId, status, seconds);
      logger.info({ api: apiId || undefined, method: req.method, url: req.url, status, ms: seconds * 1000, ip: clientIp, generation: current.generation }, 'request');
    };
    const target = parseRequestTarget(req.url ?? '');
    if (!target) return done(sendRefusal(res, { code: 'BAD_REQUEST_TARGET', message: 'request path is not a normalised absolute path' }, undefined));
    if (internal && (target.path === '/metrics' || target.path === '/healthz')) {
      metrics.apiServerConnected = informers.every((i) => i.connected);
      const body = target.path === '/metrics' ? metrics.render(current) : 'ok\n';
      res.writeHead(200, { 'content-type': target.path === '/metrics' ? 'text/plain; version=0.0.4; charset=utf-8' : 'text/plain' });
      res.end(body);
      return;
    }
    const match = router(current).match(req.headers.host, target.segments);
    if (!match) return done(sendRefusal(res, { code: 'NO_ROUTE', message: `no API serves ${target.path}` }, undefined));
    const api = match.value;
    apiId = api.id;
    const rest = remainder(target.path, match.depth);
    const ctx: RequestContext = { req, clientIp, rest: rest || '/', query: target.query, responseHeaders: {} };
    for (const step of api.chain) {
      const outcome = step(ctx);
      if (outcome === undefined) continue;
      if (outcome === 'preflight') {
        res.writeHead(204, ctx.responseHeaders);
        res.end();
        return done(204);
      }
      return done(sendRefusal(res, outcome, api.id, ctx.responseHeaders));
    }
    if (api.targets.size === 0) return done(sendRefusal(res, { code: 'NO_UPSTREAM', message: 'every upstream target has weight 0' }, api.id, ctx.responseHeaders));
    forward(api, ctx, res, api.strip ? rest : target.path).then(done, (err: unknown) => {
      logger.error({ err, api: api.id }, 'proxy failed');
      res.destroy();
      done(500);
    });
  };

  const host = options.host ?? '127.0.0.1';
  const publicServer = createServer(handle((c) => c.public, false));
  const internalServer = createServer(handle((c) => c.internal, true));
  await Promise.all([listen(publicServer, options.port, host), listen(internalServer, options.internalPort ?? 0, host)]);
  const urlOf = (s: Server) => `http://${host.includes(':') ? `[${host}]` : host}:${(s.address() as AddressInfo).port}`;

  return {
    url: urlOf(publicServer),
    internalUrl: urlOf(internalServer),
    config: () => config,
    async close() {
      await Promise.all(informers.map((i) => i.stop()));
      await Promise.all([publicServer, internalServer].map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      })));
      await saving;
      await pools.close();
      await client.close();
    },
  };
}

/** The path below the first `depth` non-empty segments of `path`, as received; "/" when nothing is left. */
function remainder(path: string, depth: number): string {
  let i = 0;
  for (let seen = 0; seen < depth; seen++) {
    while (path.charCodeAt(i) === 47) i++;
    const next = path.indexOf('/', i);
    i = next < 0 ? path.length : next;
  }
  return path.slice(i);
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
