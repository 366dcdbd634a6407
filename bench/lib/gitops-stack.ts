// The Gatehouse processes bench/gitops.ts measures, each the real CLI as its own process
// (so its CPU time and peak RSS can be read from /proc): `gatehouse controller` and
// `gatehouse gateway` against an API server started with startApiServerProcess, and the
// upstream the gateway proxies to. All are started through `processes`, so they are
// stopped however the run ends.
import { join } from 'node:path';
import { request } from 'undici';
import { waitForOutput, type Child, type Processes } from './processes.ts';
import { freePort, pollUntil } from './ready.ts';
import { BENCH_DIR, gatehouseArgv, REPO_ROOT } from './repo.ts';

export interface ControllerProcess {
  child: Child;
  /** Base URL of the webhook listener, when started with one. */
  hookUrl?: string;
}

export interface ControllerProcessOptions {
  kubeconfigPath: string;
  /** Artifacts and Git caches. */
  dataDir: string;
  /** Run the webhook listener on a free port. */
  hooks: boolean;
  /** Flags for node itself, e.g. ['--cpu-prof', '--cpu-prof-dir', DIR]. */
  nodeFlags?: readonly string[];
}

/** Starts `gatehouse controller` and resolves once it logged "controller running" (its
 * informers have synced and the hook listener, if any, is bound). */
export async function startControllerProcess(
  processes: Processes,
  options: ControllerProcessOptions,
): Promise<ControllerProcess> {
  const args = [
    'controller',
    '--kubeconfig',
    options.kubeconfigPath,
    '--data-dir',
    options.dataDir,
    ...(options.hooks ? ['--hook-port', '0'] : []),
    // One controller needs no Lease (and the bench's API server has no gatehouse-system namespace to hold it).
    '--leader-elect=false',
  ];
  // info: the start line carries the hook URL; the controller logs nothing per reconcile at info.
  const child = processes.start('controller', gatehouseArgv(args, options.nodeFlags ?? []), {
    cwd: REPO_ROOT,
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info' },
  });
  const [line] = await waitForOutput(child, /^.*"controller running".*$/m);
  const hookUrl = (JSON.parse(line) as { hookUrl?: string }).hookUrl;
  if (options.hooks && !hookUrl) throw new Error(`the controller started without a hook listener:\n${child.tail()}`);
  return { child, hookUrl };
}

export interface UpProcess {
  child: Child;
  /** Written by `gatehouse up` into its data directory (admin token, its CA). */
  kubeconfigPath: string;
}

/**
 * Starts `gatehouse up` (API server, gateway and controller in one process) on free ports
 * with `storage`, and resolves once it printed "Gatehouse is up".
 */
export async function startUpProcess(
  processes: Processes,
  options: { dataDir: string; storage: string; nodeFlags?: readonly string[] },
): Promise<UpProcess> {
  const ports = ['--api-port', '--gateway-port', '--gateway-internal-port', '--hook-port'].flatMap((flag) => [
    flag,
    '0',
  ]);
  const child = processes.start(
    'gatehouse up',
    gatehouseArgv(
      ['up', '--data-dir', options.dataDir, '--storage', options.storage, ...ports],
      options.nodeFlags ?? [],
    ),
    {
      cwd: REPO_ROOT,
      // warn: no gateway access log; the start banner is written to stdout whatever the level.
      env: { ...process.env, NODE_ENV: 'production', GATEHOUSE_LOG_LEVEL: 'warn' },
    },
  );
  await waitForOutput(child, /Gatehouse is up\./);
  return { child, kubeconfigPath: join(options.dataDir, 'kubeconfig') };
}

export interface GatewayProcess {
  child: Child;
  url: string;
  internalUrl: string;
}

/** Starts `gatehouse gateway` (one process, log level warn: no access log) and resolves once
 * its internal listener answers /healthz. */
export async function startGatewayProcess(
  processes: Processes,
  options: { kubeconfigPath: string; dataDir: string },
): Promise<GatewayProcess> {
  const [port, internalPort] = [await freePort(), await freePort()];
  const child = processes.start(
    'gateway',
    gatehouseArgv([
      'gateway',
      '--kubeconfig',
      options.kubeconfigPath,
      '--port',
      String(port),
      '--internal-port',
      String(internalPort),
      '--data-dir',
      options.dataDir,
    ]),
    {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: 'production', GATEHOUSE_LOG_LEVEL: 'warn' },
    },
  );
  const gateway = { child, url: `http://127.0.0.1:${port}`, internalUrl: `http://127.0.0.1:${internalPort}` };
  await pollUntil(
    processes,
    child,
    async () => {
      const res = await request(`${gateway.internalUrl}/healthz`);
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`/healthz: HTTP ${res.statusCode}`);
    },
    60_000,
  );
  return gateway;
}

/** Starts the benchmarks' upstream (bench/peers/upstream.ts: 200 and a small JSON body for any request). */
export async function startUpstreamProcess(processes: Processes): Promise<{ child: Child; url: string }> {
  const child = processes.start(
    'upstream',
    [process.execPath, '--import', 'tsx', join(BENCH_DIR, 'peers', 'upstream.ts')],
    { cwd: REPO_ROOT },
  );
  const [line] = await waitForOutput(child, /^\{"url":.*\}$/m);
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

/**
 * SIGTERM, then waits up to `graceMs` for the exit before Processes.stop's own (shorter)
 * grace and SIGKILL. A controller finishes the reconcile in flight before it exits (up to
 * 30 s), and only a process that exits by itself writes its --cpu-prof profile.
 */
export async function stopPatiently(processes: Processes, child: Child, graceMs: number): Promise<void> {
  if (!child.exitedWith) {
    const exited = new Promise<void>((resolve) => child.proc.once('exit', () => resolve()));
    child.proc.kill('SIGTERM');
    await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())]);
  }
  await processes.stop(child);
}
