// What `gatehouse apiserver` and `gatehouse up` run: the only place that wires components together. main.ts
// imports this module when one of those commands runs, so other commands and --help do not load the components.
import { InvalidArgumentError } from 'commander';
import { mkdir } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { startApiServer, type ApiServer } from '../apiserver/server.ts';
import { DEFAULT_SANS, ensureSelfSignedCert, loadServingCert, namesAll, type ServingCert } from '../apiserver/tls.ts';
import { lockDirectory } from '../storage/directory-lock.ts';
import { isSharedStorage, openStorage } from '../storage/open.ts';
import { startGateway, type Gateway } from '../gateway/server.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { KubeClient } from '../client/rest.ts';
import { CONTROLLER_LEADER_ELECTION, startController, type GitOpsController } from '../gitops/manager.ts';
import { startDemo, type Demo } from './demo.ts';
import { clusterOf, type ModeFlags } from './apiserver-mode.ts';
import { AUDIT_LOG_FILE, auditLogOptions, type AuditFlags } from './audit-command.ts';
import { authenticationOf, type AuthenticationFlags } from './authentication-options.ts';
import { delegationOf, type DelegationFlags } from './delegation-options.ts';
import { startComponentIdentities } from './component-identities.ts';
import { ensureAdminToken, writeKubeconfig } from './kubeconfig.ts';
import { logger, stopOnSignals } from './process.ts';
import { progress } from './target.ts';

/** The given certificate, which must name every --tls-san; else the self-signed one, made to name them. */
async function servingCert(dataDir: string, sans: string[], certFile?: string, keyFile?: string): Promise<ServingCert> {
  if (certFile || keyFile) {
    if (!certFile || !keyFile) throw new InvalidArgumentError('--tls-cert-file and --tls-private-key-file go together');
    const given = await loadServingCert(certFile, keyFile);
    const missing = sans.filter((san) => !namesAll(given.cert, [san]));
    if (missing.length)
      throw new InvalidArgumentError(`${certFile} is not valid for ${missing.join(', ')} (--tls-san)`);
    return given;
  }
  return ensureSelfSignedCert(join(dataDir, 'tls'), [...DEFAULT_SANS, ...sans]);
}

/** `gatehouse apiserver`: serves until a signal stops it. */
export async function serveApi(
  opts: {
    storage: string;
    dataDir: string;
    bind: string;
    port: number;
    tokenFile?: string;
    tlsCertFile?: string;
    tlsPrivateKeyFile?: string;
    tlsSan?: string[];
    apiHistoryLimit: number;
  } & AuthenticationFlags &
    DelegationFlags &
    AuditFlags &
    ModeFlags,
): Promise<void> {
  const dataDir = resolve(opts.dataDir);
  const cluster = await clusterOf(opts);
  // Aggregated: the cluster authenticates and authorizes, instead of the token file, client CA and RBAC.
  const delegatedAccess = await delegationOf(opts, { ...opts, cluster }, (err, what) =>
    logger.warn({ err }, `${what}: the cluster could not be asked`),
  );
  const authentication = delegatedAccess ? { delegatedAccess } : await authenticationOf(dataDir, opts);
  const audit = await auditLogOptions(opts);
  const tls = await servingCert(dataDir, opts.tlsSan ?? [], opts.tlsCertFile, opts.tlsPrivateKeyFile);
  const storage = await openStorage(opts.storage, { dataDir, logger });
  if (!delegatedAccess && !opts.tokenFile && !opts.clientCaFile) {
    logger.warn(
      'no --token-file or --client-ca-file: authentication is disabled, every request acts as an administrator',
    );
  }
  const { bind: host, port, tokenFile } = opts;
  // Replicas sharing PostgreSQL elect the one that collects garbage.
  const garbageCollection = { elect: isSharedStorage(opts.storage) };
  const server = await startApiServer({
    storage,
    tls,
    host,
    port,
    tokenFile,
    ...authentication,
    audit,
    garbageCollection,
    cluster,
    logger,
    apiHistoryLimit: opts.apiHistoryLimit,
  });
  logger.info({ url: server.url, storage: opts.storage, mode: opts.mode }, 'API server listening');
  stopOnSignals([
    async () => {
      await server.close();
      await cluster?.client.close();
    },
  ]);
}

/** `gatehouse up`: API server, gateway and controller in one process, until a signal stops it. */
export async function up(
  opts: {
    dataDir: string;
    storage?: string;
    bind: string;
    apiPort: number;
    gatewayPort: number;
    gatewayInternalPort: number;
    hookPort: number;
    demo?: boolean;
    demoUpstreamPort: number;
    apiHistoryLimit: number;
  } & AuditFlags,
): Promise<void> {
  const dataDir = resolve(opts.dataDir);
  const audit = await auditLogOptions(opts, join(dataDir, AUDIT_LOG_FILE));
  // One `up` per data directory: a second would share its files and rewrite its kubeconfig.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const lock = await lockDirectory(dataDir);
  const credentials = await ensureAdminToken(dataDir);
  const tls = await ensureSelfSignedCert(join(dataDir, 'tls'));
  const spec = opts.storage ?? `pglite:${join(dataDir, 'pglite')}`;
  // The first start on PGlite creates the database, which takes a while: say so.
  progress(`► opening storage ${spec}`);
  const storage = await openStorage(spec, { dataDir, logger });
  progress('► starting the API server');
  let server: ApiServer;
  try {
    const { tokenFile } = credentials;
    const { serviceAccountTokens } = await authenticationOf(dataDir);
    const { bind: host, apiPort: port } = opts;
    const garbageCollection = { elect: isSharedStorage(spec) };
    server = await startApiServer({
      storage,
      tls,
      host,
      port,
      tokenFile,
      serviceAccountTokens,
      audit,
      garbageCollection,
      logger,
      apiHistoryLimit: opts.apiHistoryLimit,
    });
  } catch (err) {
    await storage.close();
    throw err;
  }
  const kubeconfigPath = join(dataDir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, server.url, tls.cert, credentials.token);
  logger.info({ url: server.url, storage: spec }, 'API server listening');
  // The gateway and the controller run as their ServiceAccounts, with their roles' rights only.
  const admin = new KubeClient(await loadKubeconfig(kubeconfigPath));
  const identities = await startComponentIdentities({
    admin,
    dataDir,
    server: server.url,
    ca: tls.cert,
    onRenewalError: (err) => logger.warn({ err }, 'renewing the gateway and controller tokens failed; retrying'),
  })
    .finally(() => admin.close())
    .catch(async (err: unknown) => {
      await server.close();
      throw err;
    });
  progress('► starting the gateway');
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      kubeconfig: identities.gatewayKubeconfig,
      port: opts.gatewayPort,
      internalPort: opts.gatewayInternalPort,
      host: opts.bind,
      dataDir: join(dataDir, 'gateway'),
      logger,
    });
  } catch (err) {
    identities.close();
    await server.close();
    throw err;
  }
  progress('► starting the GitOps controller');
  let controller: GitOpsController;
  try {
    const kubeconfig = identities.controllerKubeconfig;
    const { hookPort, bind: host } = opts;
    // One controller, still elected: a second `up` or a `gatehouse controller` on the same API server waits.
    controller = await startController({
      kubeconfig,
      dataDir: join(dataDir, 'controller'),
      hookPort,
      host,
      logger,
      leaderElection: CONTROLLER_LEADER_ELECTION,
      onLostLeadership: () => process.kill(process.pid, 'SIGTERM'),
    });
  } catch (err) {
    identities.close();
    await gateway.close();
    await server.close();
    throw err;
  }
  let demo: Demo | undefined;
  if (opts.demo) {
    const client = new KubeClient(await loadKubeconfig(kubeconfigPath));
    try {
      demo = await startDemo({
        client,
        dataDir,
        host: opts.bind,
        upstreamPort: opts.demoUpstreamPort,
        gatewayInternalUrl: gateway.internalUrl,
        progress,
      });
    } finally {
      await client.close();
    }
  }
  process.stdout.write(
    [
      '',
      `Gatehouse is up. API server: ${server.url} (storage: ${spec})`,
      `  gateway: ${gateway.url} (internal: ${gateway.internalUrl}, metrics at ${gateway.internalUrl}/metrics)`,
      `  controller webhooks: ${controller.hookUrl}/hook/<namespace>/<receiver>`,
      `  kubectl --kubeconfig ${kubeconfigPath} get apis`,
      ...(demo
        ? [
            `  demo: examples/ served from the Git repository ${demo.repoDir} (upstream ${demo.upstreamUrl})`,
            `  curl ${gateway.url}/hello/world      # commit a change there and it is live within 10 s`,
            `  npx gatehouse get syncs --kubeconfig ${kubeconfigPath}`,
          ]
        : [`  kubectl --kubeconfig ${kubeconfigPath} apply -R -f examples/`]),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  // The watchers go first so they stop watching before the API server goes away.
  stopOnSignals([
    async () => {
      await demo?.close();
      await controller.close();
      await gateway.close();
      identities.close();
      await server.close();
      await lock.release();
    },
  ]);
}
