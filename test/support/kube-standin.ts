// A stand-in for kube-apiserver and its aggregation layer, for tests of Gatehouse as an aggregated API
// server. kube-apiserver itself cannot run inside `npm test` (it needs etcd and a cluster's binaries), so
// this file reproduces the parts of its behaviour Gatehouse depends on, as Kubernetes documents them:
//
// - "Configure the Aggregation Layer" and "Extending the Kubernetes API with the aggregation layer"
//   (apiserver-aggregation, "Authentication Flow"): kube-apiserver authenticates the user, then proxies
//   every request under a registered APIService's group (/apis/gatehouse.dev/**) to the extension API
//   server over TLS, presenting the front-proxy client certificate (--proxy-client-cert-file, signed by
//   --requestheader-client-ca-file, CN in --requestheader-allowed-names) with the user in X-Remote-User,
//   X-Remote-Group and X-Remote-Extra-<percent-encoded key>, after removing any such headers the client
//   sent. An unreachable APIService answers 503 ServiceUnavailable. Discovery (/apis) and the OpenAPI v3
//   index (/openapi/v3) merge the extension server's groups into the cluster's own, fetched as the
//   aggregator's identity (`system:kube-aggregator`, a `system:masters` member).
// - The ConfigMap kube-system/extension-apiserver-authentication that kube-apiserver writes
//   (client-ca-file, requestheader-client-ca-file, requestheader-allowed-names,
//   requestheader-username-headers, requestheader-group-headers, requestheader-extra-headers-prefix,
//   lists as JSON arrays), and the default roles an extension server is bound to: the ClusterRole
//   `system:auth-delegator` (create TokenReviews and SubjectAccessReviews) and the Role
//   kube-system/`extension-apiserver-authentication-reader`; Gatehouse's bindings to them are deploy/'s.
// - TokenReview (authentication.k8s.io/v1), SubjectAccessReview (authorization.k8s.io/v1), Namespaces,
//   ConfigMaps and RBAC: served by a standalone Gatehouse API server with the core kinds only (no
//   gatehouse.dev), which implements them with kube's semantics and is tested as such elsewhere.
// - The namespace controller of kube-controller-manager ("Namespaces" and "Namespace lifecycle" of the
//   Kubernetes documentation): for a namespace being deleted it lists and deletes as a collection every
//   namespaced resource the aggregated group's discovery lists, through the aggregator, as
//   system:serviceaccount:kube-system:namespace-controller (bound to system:controller:namespace-controller).
//   Unlike kube it does not hold the namespace in Terminating until then: the core deletes it at once.
//
// Where it differs: kube-apiserver also authorizes a request before proxying it; the stand-in leaves that
// to the extension server, so the tests see Gatehouse's own SubjectAccessReview decision. It does not
// impersonate on proxied requests (Impersonate-* there is answered 400). OpenAPI v2 is the cluster's only
// (kubectl 1.32 explains and patches with v3).
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { namespaceKind } from '../../src/api/core/namespace/index.ts';
import type { KubeObject } from '../../src/api/kind.ts';
import { servedKinds } from '../../src/api/kinds.ts';
import { Informer } from '../../src/client/informer.ts';
import { loadKubeconfig } from '../../src/client/kubeconfig.ts';
import { KubeClient } from '../../src/client/rest.ts';
import { kubeconfig } from '../../src/cli/kubeconfig.ts';
import { KUBECTL, startTestApiServer, type TestApiServer } from './apiserver.ts';
import { createCertificateAuthority, type CertificateAuthority, type CertificateFiles } from './pki.ts';

export const GATEHOUSE_GROUP = 'gatehouse.dev';
/** The user Gatehouse's own kubeconfig authenticates as in the cluster. */
export const GATEHOUSE_SERVICE_ACCOUNT = 'system:serviceaccount:gatehouse-system:gatehouse-apiserver';
const SERVICE_ACCOUNT_GROUPS = 'system:serviceaccounts,system:serviceaccounts:gatehouse-system';
export const FRONT_PROXY_CLIENT = 'front-proxy-client';
/** The installer's bindings of Gatehouse's API server to those roles, applied as `kubectl apply -k deploy/` would. */
const DELEGATION_RBAC = fileURLToPath(new URL('../../deploy/base/rbac/delegation.yaml', import.meta.url));
/** kube-controller-manager's namespace controller, as the aggregator passes it on. */
const NAMESPACE_CONTROLLER = {
  name: 'system:serviceaccount:kube-system:namespace-controller',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};
const AGGREGATOR = { name: 'system:kube-aggregator', groups: ['system:masters'] };
const AUTHENTICATION_CONFIGMAP = '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication';
const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
const SUBJECT_ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
/** Headers kube-apiserver does not pass on (RFC 9110 §7.6.1 hop-by-hop, plus the upgrade it handles itself). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/** Whether the cluster's API answers: `refusing` resets every connection, `hanging` never answers. */
export type CoreState = 'up' | 'refusing' | 'hanging';

export interface KubeStandinOptions {
  /** More users of the cluster: token file lines (`token,user,uid,"group1,group2"`). */
  tokens?: string[];
}

export interface KubeStandin {
  /** kube-apiserver's address (the stand-in's TLS listener on 127.0.0.1). */
  url: string;
  /** PEM of the CA of its serving certificate. */
  ca: string;
  /** The standalone API server behind it that serves the core kinds. */
  core: TestApiServer;
  dir: string;
  /** Gatehouse's kubeconfig into the cluster, as ServiceAccount gatehouse-system/gatehouse-apiserver, bound
   * by deploy/base/rbac/delegation.yaml (system:auth-delegator, extension-apiserver-authentication-reader,
   * Namespaces). */
  gatehouseKubeconfigPath: string;
  /** The cluster's client CA (the ConfigMap's client-ca-file): sign users' client certificates with it. */
  clientCa: CertificateAuthority;
  /** The current front-proxy CA and the client certificate the proxy presents. */
  frontProxy(): { ca: CertificateAuthority; client: CertificateFiles };
  /** What its namespace controller did in namespaces deleted: each list and deletecollection, with its code. */
  namespaceCleanups: NamespaceCleanup[];
  /** Requests the stand-in received (from kubectl or Gatehouse) per path, e.g. TokenReviews. */
  calls: { tokenReviews: number; subjectAccessReviews: number };
  /** Registers the APIService v1alpha1.gatehouse.dev: its endpoints (tried in turn, as a Service's) and CA. */
  registerApiService(backend: { urls: string[]; ca: string }): void;
  /** A kubeconfig through the stand-in with a user's token; returns its path. */
  writeKubeconfig(name: string, token: string): Promise<string>;
  /** Runs the real kubectl with a kubeconfig; resolves with exit code, stdout and stderr. */
  kubectl(kubeconfigPath: string, args: string[], input?: string): Promise<KubectlResult>;
  /** A new front-proxy CA and client certificate, written to the ConfigMap as kube-apiserver would on
   * restart with new flags; the proxy presents the new certificate from then on. */
  rotateFrontProxyCa(): Promise<void>;
  setCore(state: CoreState): void;
  stop(): Promise<void>;
}

export interface NamespaceCleanup {
  namespace: string;
  resource: string;
  verb: 'list' | 'deletecollection';
  code: number;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

const coreKinds = servedKinds.filter((k) => k.group !== GATEHOUSE_GROUP);

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

function forwardedHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Upstream {
  url: string;
  agent: HttpsAgent;
}

interface Buffered {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends one request upstream; resolves with the response (not read yet), rejects on a connection error. */
function send(upstream: Upstream, method: string, path: string, headers: OutgoingHttpHeaders, body: Buffer) {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const out = httpsRequest(new URL(path, upstream.url), { method, headers, agent: upstream.agent }, resolve);
    out.once('error', reject);
    out.end(body.length ? body : undefined);
  });
}

async function sendBuffered(upstream: Upstream, path: string, headers: OutgoingHttpHeaders): Promise<Buffered> {
  const res = await send(upstream, 'GET', path, headers, Buffer.alloc(0));
  return { status: res.statusCode ?? 502, headers: res.headers, body: await readAll(res) };
}

/** Streams an upstream response (a watch included) to the client; ends the upstream when the client leaves,
 * and cuts the client's when the upstream's breaks off (a replica killed), as the aggregator's proxy does. */
function pipeResponse(from: IncomingMessage, to: ServerResponse): void {
  to.writeHead(from.statusCode ?? 502, forwardedHeaders(from.headers));
  from.pipe(to);
  to.once('close', () => from.destroy());
  from.once('close', () => {
    if (!from.complete) to.destroy();
  });
}

export async function startKubeStandin(options: KubeStandinOptions = {}): Promise<KubeStandin> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-kube-standin-'));
  const pki = join(dir, 'pki');
  await mkdir(pki);
  const servingCa = await createCertificateAuthority(pki, 'kube-ca');
  const serving = await servingCa.issueServing('kube-apiserver');
  const clientCa = await createCertificateAuthority(pki, 'kube-client-ca');
  let frontProxyCa = await createCertificateAuthority(pki, 'front-proxy-ca');
  let frontProxyClient = await frontProxyCa.issueClient(FRONT_PROXY_CLIENT, `/CN=${FRONT_PROXY_CLIENT}`);
  const gatehouseToken = randomBytes(18).toString('base64url');
  const core = await startTestApiServer('memory', {
    kinds: coreKinds,
    clientCaFile: clientCa.certFile,
    tokens: [
      `${gatehouseToken},${GATEHOUSE_SERVICE_ACCOUNT},gatehouse-apiserver,"${SERVICE_ACCOUNT_GROUPS}"`,
      ...(options.tokens ?? []),
    ],
  });
  const coreUpstream: Upstream = { url: core.url, agent: new HttpsAgent({ keepAlive: true, ca: core.ca }) };
  const coreAsAdmin = async (method: string, path: string, body: unknown, contentType = 'application/json') => {
    const res = await core.request(path, {
      method,
      headers: { 'content-type': contentType },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`stand-in setup: ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const authenticationConfigMap = () => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'extension-apiserver-authentication', namespace: 'kube-system' },
    data: {
      'client-ca-file': clientCa.cert,
      'requestheader-client-ca-file': frontProxyCa.cert,
      'requestheader-allowed-names': JSON.stringify([FRONT_PROXY_CLIENT]),
      'requestheader-username-headers': JSON.stringify(['X-Remote-User']),
      'requestheader-group-headers': JSON.stringify(['X-Remote-Group']),
      'requestheader-extra-headers-prefix': JSON.stringify(['X-Remote-Extra-']),
    },
  });
  for (const name of ['kube-system', 'gatehouse-system']) {
    await coreAsAdmin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  await coreAsAdmin('POST', '/api/v1/namespaces/kube-system/configmaps', authenticationConfigMap());
  // kube-apiserver's bootstrap roles for extension servers; the bindings are the installer's (deploy/).
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  await coreAsAdmin('POST', `${rbac}/clusterroles`, {
    metadata: { name: 'system:auth-delegator' },
    rules: [
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ],
  });
  await coreAsAdmin('POST', `${rbac}/namespaces/kube-system/roles`, {
    metadata: { name: 'extension-apiserver-authentication-reader' },
    rules: [
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['extension-apiserver-authentication'],
        verbs: ['get', 'list', 'watch'],
      },
    ],
  });
  await coreAsAdmin('POST', `${rbac}/clusterroles`, {
    metadata: { name: 'system:controller:namespace-controller' },
    rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['delete', 'deletecollection', 'get', 'list'] }],
  });
  await coreAsAdmin('POST', `${rbac}/clusterrolebindings`, {
    metadata: { name: 'system:controller:namespace-controller' },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'system:controller:namespace-controller',
    },
    subjects: [{ kind: 'ServiceAccount', name: 'namespace-controller', namespace: 'kube-system' }],
  });
  await core.kubectl(['apply', '-f', DELEGATION_RBAC]);

  let backend: { urls: string[]; agent: HttpsAgent } | undefined;
  let backendCa = '';
  let next = 0;
  const frontProxyAgent = () =>
    new HttpsAgent({ keepAlive: true, ca: backendCa, cert: frontProxyClient.cert, key: frontProxyClient.key });
  const calls = { tokenReviews: 0, subjectAccessReviews: 0 };
  let coreState: CoreState = 'up';
  const held = new Set<Socket>();

  /** kube's front proxy headers for `user`, after every X-Remote-* and credential the client sent is gone. */
  function proxiedHeaders(sent: IncomingHttpHeaders, user: { name: string; groups: string[]; extra?: object }) {
    const headers = forwardedHeaders(sent);
    for (const name of Object.keys(headers)) {
      if (name.startsWith('x-remote-') || name === 'authorization') delete headers[name];
    }
    headers['x-remote-user'] = user.name;
    headers['x-remote-group'] = user.groups;
    for (const [key, values] of Object.entries(user.extra ?? {})) {
      headers[`x-remote-extra-${encodeURIComponent(key)}`] = values as string[];
    }
    return headers;
  }

  /** Sends to the APIService's endpoints in turn, as a Service would after an endpoint failed. */
  async function toGatehouse(method: string, path: string, headers: OutgoingHttpHeaders, body: Buffer) {
    if (!backend) return undefined;
    for (let tried = 0; tried < backend.urls.length; tried++) {
      const url = backend.urls[next++ % backend.urls.length];
      try {
        return await send({ url, agent: backend.agent }, method, path, headers, body);
      } catch {
        // Connection refused or reset: the next endpoint.
      }
    }
    return undefined;
  }

  /** kube-apiserver's authentication of the user (bearer tokens, by TokenReview of the core). */
  async function authenticate(req: IncomingMessage) {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return undefined;
    const review = await coreAsAdmin('POST', TOKEN_REVIEWS, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const answer = review.status as { authenticated?: boolean; user?: { username: string; groups?: string[] } };
    if (!answer.authenticated || !answer.user) return undefined;
    const { username, groups = [], extra } = answer.user as { username: string; groups?: string[]; extra?: object };
    return { name: username, groups, extra };
  }

  async function proxyToGatehouse(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    if (Object.keys(req.headers).some((h) => h.startsWith('impersonate-'))) {
      return status(res, 400, 'BadRequest', 'the kube stand-in does not impersonate on proxied requests');
    }
    const user = await authenticate(req);
    if (!user) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const upstream = await toGatehouse(req.method ?? 'GET', req.url ?? '/', proxiedHeaders(req.headers, user), body);
    if (!upstream) {
      return status(res, 503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    }
    pipeResponse(upstream, res);
  }

  /** The aggregator's view of Gatehouse's document at `path`, or undefined when it cannot be had. */
  async function gatehouseDocument(req: { headers: IncomingHttpHeaders }, path: string) {
    const headers = proxiedHeaders(req.headers, AGGREGATOR);
    const upstream = await toGatehouse('GET', path, headers, Buffer.alloc(0));
    if (upstream?.statusCode !== 200) {
      upstream?.resume();
      return undefined;
    }
    return JSON.parse((await readAll(upstream)).toString('utf8')) as Record<string, unknown>;
  }

  /** /apis and /openapi/v3: the cluster's document with Gatehouse's group merged in (aggregator behaviour). */
  async function merged(req: IncomingMessage, res: ServerResponse, path: '/apis' | '/openapi/v3') {
    const own = await sendBuffered(coreUpstream, req.url ?? path, forwardedHeaders(req.headers));
    const type = String(own.headers['content-type'] ?? '');
    if (own.status !== 200 || !type.includes('json')) return replay(res, own);
    const doc = JSON.parse(own.body.toString('utf8'));
    const theirs = await gatehouseDocument(req, path);
    if (path === '/openapi/v3') {
      const entries = Object.entries((theirs?.paths ?? {}) as Record<string, unknown>);
      for (const [key, value] of entries) if (key.startsWith(`apis/${GATEHOUSE_GROUP}`)) doc.paths[key] = value;
    } else {
      const field = doc.kind === 'APIGroupDiscoveryList' ? 'items' : 'groups';
      const isOurs = (g: { name?: string; metadata?: { name?: string } }) =>
        (g.metadata?.name ?? g.name) === GATEHOUSE_GROUP;
      doc[field].push(...((theirs?.[field] ?? []) as object[]).filter(isOurs));
    }
    const headers = forwardedHeaders(own.headers);
    for (const name of ['content-length', 'etag']) delete headers[name];
    res.writeHead(200, headers);
    res.end(JSON.stringify(doc));
  }

  function replay(res: ServerResponse, answer: Buffered) {
    res.writeHead(answer.status, forwardedHeaders(answer.headers));
    res.end(answer.body);
  }

  async function proxyToCore(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === TOKEN_REVIEWS) calls.tokenReviews++;
    if (req.method === 'POST' && path === SUBJECT_ACCESS_REVIEWS) calls.subjectAccessReviews++;
    const upstream = await send(coreUpstream, req.method ?? 'GET', req.url ?? '/', forwardedHeaders(req.headers), body);
    pipeResponse(upstream, res);
  }

  const isGatehouse = (path: string) =>
    [`/apis/${GATEHOUSE_GROUP}`, `/openapi/v3/apis/${GATEHOUSE_GROUP}`].some(
      (prefix) => path === prefix || path.startsWith(`${prefix}/`),
    );

  async function handle(req: IncomingMessage, res: ServerResponse) {
    if (coreState === 'refusing') return void req.socket.destroy();
    if (coreState === 'hanging') return void held.add(req.socket);
    const body = await readAll(req);
    const path = (req.url ?? '/').split('?')[0];
    if (isGatehouse(path)) return proxyToGatehouse(req, res, body);
    if (req.method === 'GET' && (path === '/apis' || path === '/openapi/v3')) return merged(req, res, path);
    return proxyToCore(req, res, body);
  }

  /** kube's namespace controller: every namespaced resource of the aggregated group, listed then deleted as a
   * collection in the namespace being deleted, through the aggregator. */
  async function cleanUp(namespace: string) {
    const discovery = await gatehouseDocument({ headers: {} }, `/apis/${GATEHOUSE_GROUP}/v1alpha1`);
    const resources = (discovery?.resources ?? []) as { name: string; namespaced: boolean; verbs: string[] }[];
    for (const { name } of resources.filter((r) => r.namespaced && r.verbs.includes('deletecollection'))) {
      const collection = `/apis/${GATEHOUSE_GROUP}/v1alpha1/namespaces/${namespace}/${name}`;
      for (const method of ['GET', 'DELETE']) {
        const headers = proxiedHeaders({ accept: 'application/json' }, NAMESPACE_CONTROLLER);
        const answer = await toGatehouse(method, collection, headers, Buffer.alloc(0));
        answer?.resume();
        namespaceCleanups.push({
          namespace,
          resource: name,
          verb: method === 'GET' ? 'list' : 'deletecollection',
          code: answer?.statusCode ?? 503,
        });
      }
    }
  }
  const namespaceCleanups: NamespaceCleanup[] = [];
  const cleaned = new Set<string>();
  const coreClient = new KubeClient(await loadKubeconfig(core.kubeconfigPath));
  const namespaces = new Informer<KubeObject>(coreClient, namespaceKind, {
    onChange(change) {
      if (change.type === 'SYNC') return;
      const { name, deletionTimestamp } = change.object.metadata;
      if ((change.type !== 'DELETED' && !deletionTimestamp) || cleaned.has(name as string)) return;
      cleaned.add(name as string);
      void cleanUp(name as string);
    },
  }).start();
  await namespaces.synced;

  const server: Server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    handle(req, res).catch((err: Error) => status(res, 502, 'InternalError', `kube stand-in: ${err.message}`));
  });
  const sockets = new Set<Socket>();
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const gatehouseKubeconfigPath = join(dir, 'gatehouse.kubeconfig');
  await writeFile(gatehouseKubeconfigPath, kubeconfig(url, servingCa.cert, gatehouseToken), { mode: 0o600 });

  return {
    url,
    ca: servingCa.cert,
    core,
    dir,
    gatehouseKubeconfigPath,
    clientCa,
    calls,
    namespaceCleanups,
    frontProxy: () => ({ ca: frontProxyCa, client: frontProxyClient }),
    registerApiService(registration) {
      backend?.agent.destroy();
      backendCa = registration.ca;
      backend = { urls: registration.urls, agent: frontProxyAgent() };
    },
    async writeKubeconfig(name, token) {
      const path = join(dir, `${name}.kubeconfig`);
      await writeFile(path, kubeconfig(url, servingCa.cert, token), { mode: 0o600 });
      return path;
    },
    kubectl(kubeconfigPath, args, input) {
      return new Promise((resolve) => {
        const cache = ['--cache-dir', join(dir, 'kube-cache')];
        const child = execFile(
          KUBECTL,
          ['--kubeconfig', kubeconfigPath, ...cache, ...args],
          { timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        if (input !== undefined) child.stdin?.end(input);
      });
    },
    async rotateFrontProxyCa() {
      const rotated = join(pki, `rotated-${randomBytes(4).toString('hex')}`);
      await mkdir(rotated);
      frontProxyCa = await createCertificateAuthority(rotated, 'front-proxy-ca');
      frontProxyClient = await frontProxyCa.issueClient(FRONT_PROXY_CLIENT, `/CN=${FRONT_PROXY_CLIENT}`);
      const merge = 'application/merge-patch+json';
      await coreAsAdmin('PATCH', AUTHENTICATION_CONFIGMAP, { data: authenticationConfigMap().data }, merge);
      if (backend) {
        backend.agent.destroy();
        backend = { urls: backend.urls, agent: frontProxyAgent() };
      }
    },
    setCore(state) {
      coreState = state;
      if (state === 'up') for (const socket of held) socket.destroy();
      if (state !== 'up') for (const socket of sockets) socket.destroy();
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await namespaces.stop();
      await coreClient.close();
      backend?.agent.destroy();
      coreUpstream.agent.destroy();
      await core.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
