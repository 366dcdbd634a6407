// Starts a real Gatehouse API server in-process on 127.0.0.1 with a token file and a
// kubeconfig, for tests that drive it with kubectl or @kubernetes/client-node.
import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Agent } from 'undici';
import { loadKubeconfig } from '../../src/client/kubeconfig.ts';
import { KubeClient } from '../../src/client/rest.ts';
import type { DelegationTiming } from '../../src/apiserver/delegated-subresources.ts';
import {
  ensureServiceAccountSigningKey,
  loadServiceAccountKeys,
} from '../../src/apiserver/auth/service-account/keys.ts';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../src/apiserver/server.ts';
import { ensureSelfSignedCert } from '../../src/apiserver/tls.ts';
import { ensureAdminToken, writeKubeconfig } from '../../src/cli/kubeconfig.ts';
import { openStorage } from '../../src/storage/open.ts';
import type { Storage } from '../../src/storage/storage.ts';

export interface TestApiServer {
  server: ApiServer;
  /** The server's storage, for tests that compact it or read below the API. */
  storage: Storage;
  url: string;
  token: string;
  dir: string;
  kubeconfigPath: string;
  /** Runs the real kubectl against the server; resolves with stdout, rejects with stderr. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** Like kubectl, but resolves with exit code, stdout and stderr instead of throwing. */
  kubectlResult(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** PEM of the CA that signs the server's certificate. */
  ca: string;
  /** Raw HTTP request with the admin token, another bearer token, or (null) none. */
  request(path: string, init?: RequestInit, token?: string | null): Promise<Response>;
  stop(): Promise<void>;
}

export const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

export interface TestApiServerOptions {
  /** More token file lines (`token,user,uid,"group1,group2"`) besides the admin's. */
  tokens?: string[];
  /** Bounds of the subresources other components answer. */
  delegation?: DelegationTiming;
  /** Connection timeouts and cap, and the watch timeout base, for tests that shorten them. */
  limits?: Pick<ApiServerOptions, 'connections' | 'minRequestTimeoutSeconds'>;
  /** Where and by which policy requests are recorded (an audit log). */
  audit?: ApiServerOptions['audit'];
  /** kube-apiserver's --client-ca-file. */
  clientCaFile?: string;
  /** Whether the garbage collector is elected (replicas sharing PostgreSQL), and how fast. */
  garbageCollection?: ApiServerOptions['garbageCollection'];
  /** The clock ServiceAccount tokens are issued and checked by (milliseconds since the epoch). */
  clock?: () => number;
  /** The kinds served; every kind when absent. */
  kinds?: ApiServerOptions['kinds'];
  /** Generations kept per ApiDefinition history (--api-history-limit). */
  apiHistoryLimit?: number;
}

/** The --service-account-issuer of test servers. */
export const TEST_ISSUER = 'https://gatehouse.test';

export async function startTestApiServer(
  storageSpec = 'memory',
  options: TestApiServerOptions = {},
): Promise<TestApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-test-'));
  const { tokenFile, token } = await ensureAdminToken(dir);
  if (options.tokens?.length) await appendFile(tokenFile, `${options.tokens.join('\n')}\n`);
  const tls = await ensureSelfSignedCert(join(dir, 'tls'));
  const storage = await openStorage(storageSpec, { dataDir: dir });
  const keys = await loadServiceAccountKeys(await ensureServiceAccountSigningKey(join(dir, 'service-account')));
  const server = await startApiServer({
    storage,
    tls,
    tokenFile,
    clientCaFile: options.clientCaFile,
    serviceAccountTokens: { keys, issuer: TEST_ISSUER, now: options.clock },
    delegation: options.delegation,
    garbageCollection: options.garbageCollection,
    audit: options.audit,
    kinds: options.kinds,
    apiHistoryLimit: options.apiHistoryLimit,
    ...options.limits,
  });
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, server.url, tls.cert, token);
  const dispatcher = new Agent({ connect: { ca: tls.cert } });
  const kubectlResult = (args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        KUBECTL,
        ['--kubeconfig', kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args],
        { timeout: 60_000 },
        (err, stdout, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  return {
    server,
    storage,
    url: server.url,
    token,
    dir,
    kubeconfigPath,
    ca: tls.cert,
    kubectlResult,
    async kubectl(args, input) {
      const r = await kubectlResult(args, input);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    request(path, init = {}, as = token) {
      const headers = new Headers(init.headers);
      if (as !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${as}`);
      return fetch(`${server.url}${path}`, { ...init, headers, dispatcher } as RequestInit);
    },
    async stop() {
      await server.close();
      // The server is gone, so every connection the agent holds is dead; close() would wait
      // for responses a test left unread.
      await dispatcher.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Registers hooks on the enclosing suite: a memory-backed API server and a KubeClient for
 * it before the tests, both stopped after. Read the fields inside tests, not at load. */
export function useApiServer(): { server: TestApiServer; client: KubeClient } {
  const handle = {} as { server: TestApiServer; client: KubeClient };
  before(async () => {
    handle.server = await startTestApiServer();
    handle.client = new KubeClient(await loadKubeconfig(handle.server.kubeconfigPath));
  });
  after(async () => {
    await handle.client.close();
    await handle.server.stop();
  });
  return handle;
}
