// A real Kubernetes control plane for the end-to-end suite (`npm run test:k8s`): etcd and kube-apiserver built
// from k8s.io/kubernetes by build.sh, on 127.0.0.1 and free ports, with the flags of a kubeadm cluster's API
// server that matter to an aggregated API server: a client CA and static tokens, RBAC, ServiceAccount tokens,
// and the front proxy (--requestheader-* and --proxy-client-*) kube-apiserver presents to Gatehouse.
//
// kube-controller-manager runs only the controllers Gatehouse's behaviour in a cluster depends on: the namespace
// controller (a deleted namespace's objects, Gatehouse's included, are deleted through each API's list and
// deletecollection), the garbage collector and ClusterRole aggregation (the aggregate-to-* labels of deploy/'s
// ClusterRoles). No scheduler, kubelet or kube-proxy runs, so no Pod runs and:
// - a Service has no ClusterIP routing and Endpoints may not name 127.0.0.1 (validation refuses loopback
//   addresses), so the APIService names a Service of type ExternalName `localhost`, which kube-aggregator
//   (without --enable-aggregator-routing) dials at the APIService's port; TLS is still verified with the
//   APIService's caBundle for the name <service>.<namespace>.svc, as in a cluster;
// - ServiceAccount tokens come from the TokenRequest API (`kubectl create token`), as kubelet gets them.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, fetch } from 'undici';
import { kubeconfig } from '../../src/cli/kubeconfig.ts';
import { KUBECTL } from '../support/apiserver.ts';
import { createCertificateAuthority, type CertificateAuthority, type CertificateFiles } from '../support/pki.ts';

const run = promisify(execFile);
const BUILD = new URL('./build.sh', import.meta.url).pathname;
const ETCD = process.env.ETCD ?? 'etcd';
export const FRONT_PROXY_CLIENT = 'front-proxy-client';
export const GATEHOUSE_NAMESPACE = 'gatehouse-system';
export const GATEHOUSE_SERVICE = 'gatehouse-apiserver';
/** Gatehouse's serving certificate must carry this name: kube-aggregator verifies it against the caBundle. */
export const GATEHOUSE_SERVICE_HOST = `${GATEHOUSE_SERVICE}.${GATEHOUSE_NAMESPACE}.svc`;
/** kube-apiserver on a loaded machine: post-start hooks (RBAC bootstrap, APIServices) take tens of seconds. */
const READY_DEADLINE_MS = 240_000;

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** A user given to startKubeCluster; the administrator when absent. */
  as?: string;
  input?: string;
  /** When kubectl is killed (a bound, so a hanging call fails the test); 60 s when absent. */
  timeoutMs?: number;
}

export interface KubeUser {
  name: string;
  groups?: string[];
}

export interface KubeCluster {
  /** kube-apiserver's address, https://127.0.0.1:<port>. */
  url: string;
  /** PEM of the CA of its serving certificate (and of its client certificates). */
  ca: string;
  dir: string;
  /** The front-proxy CA (--requestheader-client-ca-file) and the client certificate kube-apiserver presents. */
  frontProxy: { ca: CertificateAuthority; client: CertificateFiles };
  /** A kubeconfig of the administrator (group system:masters), or of a user given to startKubeCluster. */
  kubeconfigOf(user?: string): string;
  /** Runs the real kubectl as the administrator or a user; resolves with exit code, stdout and stderr. */
  kubectl(args: string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** Like kubectl, but resolves with stdout and rejects with stderr when it fails. */
  kubectlOk(args: string[], options?: KubectlOptions): Promise<string>;
  /** A kubeconfig for ServiceAccount `namespace/name` (created when missing) with a TokenRequest token. */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface KubeClusterOptions {
  /** Users with static tokens besides the administrator. */
  users?: KubeUser[];
}

/** Runs build.sh (which reuses the cached binaries) and returns the directory of kube-apiserver. */
export async function kubeBinaries(): Promise<string> {
  const { stdout } = await run(BUILD, [], { maxBuffer: 1 << 20, timeout: 90 * 60_000 });
  return stdout.trim().split('\n').at(-1) as string;
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts `command` with its output in `log`; a process that exits early is reported with the log's end. */
async function daemon(command: string, args: string[], log: string): Promise<ChildProcess> {
  const out = await open(log, 'w');
  const child = spawn(command, args, { stdio: ['ignore', out.fd, out.fd] });
  child.once('exit', () => void out.close());
  await once(child, 'spawn');
  return child;
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}

async function logTail(log: string): Promise<string> {
  return (await readFile(log, 'utf8').catch(() => '')).split('\n').slice(-40).join('\n');
}

/** Polls `probe` until it is true, failing with the process's log if it exits or the deadline passes. */
async function waitUntil(what: string, child: ChildProcess, log: string, probe: () => Promise<boolean>) {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}:\n${await logTail(log)}`);
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} not ready in ${READY_DEADLINE_MS / 1000} s:\n${await logTail(log)}`);
}

export async function startKubeCluster(options: KubeClusterOptions = {}): Promise<KubeCluster> {
  const bin = await kubeBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-k8s-'));
  const pki = join(dir, 'pki');
  await mkdir(pki);
  const ca = await createCertificateAuthority(pki, 'kubernetes-ca');
  const serving = await ca.issueServing('kube-apiserver');
  const frontProxyCa = await createCertificateAuthority(pki, 'front-proxy-ca');
  const frontProxyClient = await frontProxyCa.issueClient(FRONT_PROXY_CLIENT, `/CN=${FRONT_PROXY_CLIENT}`);
  const serviceAccountKey = join(pki, 'service-account.key');
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', serviceAccountKey]);

  const users: KubeUser[] = [
    { name: 'admin', groups: ['system:masters'] },
    // kubeadm's identity for kube-controller-manager, bound by kube's bootstrap policy.
    { name: 'system:kube-controller-manager' },
    ...(options.users ?? []),
  ];
  const tokens = new Map(users.map((u) => [u.name, `${u.name}-${Math.random().toString(36).slice(2)}`]));
  const tokenFile = join(pki, 'tokens.csv');
  await writeFile(
    tokenFile,
    users.map((u) => `${tokens.get(u.name)},${u.name},${u.name},"${(u.groups ?? []).join(',')}"\n`).join(''),
  );

  const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const peerUrl = `http://127.0.0.1:${etcdPeer}`;
  const etcdLog = join(dir, 'etcd.log');
  const etcd = await daemon(
    ETCD,
    [
      `--data-dir=${join(dir, 'etcd')}`,
      '--name=default',
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
    ],
    etcdLog,
  );
  const processes = [etcd];
  const url = `https://127.0.0.1:${securePort}`;
  const dispatcher = new Agent({ connect: { ca: ca.cert } });
  const kubeconfigs = new Map<string, string>();
  async function stop() {
    for (const child of [...processes].reverse()) await stopDaemon(child);
    await dispatcher.close();
    await rm(dir, { recursive: true, force: true });
  }
  try {
    await waitUntil('etcd', etcd, etcdLog, async () => (await fetch(`${etcdUrl}/health`)).ok);
    const apiserverLog = join(dir, 'kube-apiserver.log');
    const apiserver = await daemon(
      join(bin, 'kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        `--cert-dir=${pki}`,
        `--tls-cert-file=${serving.certFile}`,
        `--tls-private-key-file=${serving.keyFile}`,
        `--client-ca-file=${ca.certFile}`,
        `--token-auth-file=${tokenFile}`,
        '--authorization-mode=RBAC',
        '--anonymous-auth=false',
        `--service-account-issuer=${url}`,
        `--service-account-key-file=${serviceAccountKey}`,
        `--service-account-signing-key-file=${serviceAccountKey}`,
        '--service-cluster-ip-range=10.96.0.0/16',
        // The "kubernetes" Service's Endpoints would name 127.0.0.1, which their validation refuses.
        '--endpoint-reconciler-type=none',
        `--requestheader-client-ca-file=${frontProxyCa.certFile}`,
        `--requestheader-allowed-names=${FRONT_PROXY_CLIENT}`,
        '--requestheader-username-headers=X-Remote-User',
        '--requestheader-group-headers=X-Remote-Group',
        '--requestheader-extra-headers-prefix=X-Remote-Extra-',
        `--proxy-client-cert-file=${frontProxyClient.certFile}`,
        `--proxy-client-key-file=${frontProxyClient.keyFile}`,
        '--profiling=false',
      ],
      apiserverLog,
    );
    processes.push(apiserver);
    const admin = tokens.get('admin');
    await waitUntil('kube-apiserver', apiserver, apiserverLog, async () => {
      const res = await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${admin}` }, dispatcher });
      await res.arrayBuffer();
      return res.ok;
    });
    for (const user of users) {
      const path = join(dir, `${user.name}.kubeconfig`);
      await writeFile(path, kubeconfig(url, ca.cert, tokens.get(user.name) as string), { mode: 0o600 });
      kubeconfigs.set(user.name, path);
    }
    const controllerManager = await daemon(
      join(bin, 'kube-controller-manager'),
      [
        `--kubeconfig=${kubeconfigs.get('system:kube-controller-manager')}`,
        '--controllers=namespace-controller,garbage-collector-controller,clusterrole-aggregation-controller',
        // Each controller as its own ServiceAccount (kube-system/namespace-controller, …), as kubeadm runs them.
        '--use-service-account-credentials=true',
        '--leader-elect=false',
        '--secure-port=0',
      ],
      join(dir, 'kube-controller-manager.log'),
    );
    processes.push(controllerManager);
  } catch (err) {
    await stop();
    throw err;
  }

  const kubeconfigOf = (user = 'admin') => {
    const path = kubeconfigs.get(user);
    if (!path) throw new Error(`no user ${user} in this cluster`);
    return path;
  };
  const kubectl = (args: string[], { as, input, timeoutMs = 60_000 }: KubectlOptions = {}) =>
    new Promise<KubectlResult>((resolve) => {
      const cache = join(dir, 'kube-cache', as ?? 'admin');
      const child = execFile(
        KUBECTL,
        ['--kubeconfig', kubeconfigOf(as), '--cache-dir', cache, ...args],
        { timeout: timeoutMs },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  const kubectlOk = async (args: string[], opts?: KubectlOptions) => {
    const r = await kubectl(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    url,
    ca: ca.cert,
    dir,
    frontProxy: { ca: frontProxyCa, client: frontProxyClient },
    kubeconfigOf,
    kubectl,
    kubectlOk,
    async serviceAccountKubeconfig(namespace, name) {
      const manifest = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } };
      await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
      const token = (await kubectlOk(['create', 'token', name, '-n', namespace, '--duration=2h'])).trim();
      const path = join(dir, `${namespace}.${name}.kubeconfig`);
      await writeFile(path, kubeconfig(url, ca.cert, token, namespace), { mode: 0o600 });
      return path;
    },
    stop,
  };
}
