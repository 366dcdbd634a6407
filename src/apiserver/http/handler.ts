// The HTTP front of the API server: non-resource endpoints (version, health, discovery,
// OpenAPI), authentication and authorization, the gateways' counters endpoint, then
// resource verbs dispatched to the registry's generic stores. Every failure is written as
// a metav1.Status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as toYaml } from 'yaml';
import { COUNTERS_PATH } from '../../api/counters.ts';
import type { KindDefinition, KubeObject } from '../../api/kind.ts';
import { apiVersionOf } from '../../api/kinds.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Authenticator, Authorizer, UserInfo } from '../auth/auth.ts';
import { assertAuthorized } from '../auth/forbidden.ts';
import { impersonate } from '../auth/impersonation.ts';
import { ApiError, errors } from '../errors.ts';
import { PATCH_TYPES, patchTypeOf } from '../registry/patch.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceStore, WriteOptions } from '../registry/store.ts';
import { decodeBody, readBody } from './body.ts';
import { COUNTERS_REF, serveCounters, type CounterStore } from './counters.ts';
import type { ExtraSubresource } from './discovery.ts';
import { DiscoveryDocuments } from './documents.ts';
import { negotiate, type Representation } from './negotiate.ts';
import { encodeProtobuf, encodesProtobuf, PROTOBUF_TYPE } from './protobuf.ts';
import {
  assertNoNul,
  boolParam,
  deleteOptionsOf,
  includeObjectOf,
  listOptionsOf,
  selectedName,
  writeOptions,
} from './query.ts';
import { parseResourcePath, type ResourceRequest } from './request-info.ts';
import { answerWithin, DEFAULT_REQUEST_TIMEOUT_MS, requestTimeoutOf } from './request-timeout.ts';
import { partialMetadata, table, type IncludeObject } from './table.ts';
import { DEFAULT_MIN_REQUEST_TIMEOUT_SECONDS, serveWatch } from './watch.ts';

/** A subresource served by code outside the generic store (probe, history, reconcile…). */
export interface SubresourceHandler extends ExtraSubresource {
  group: string;
  plural: string;
  handle(context: SubresourceContext): Promise<{ code?: number; body: unknown }>;
}

export interface SubresourceContext {
  verb: 'get' | 'create';
  namespace: string;
  name: string;
  body: unknown;
  query: URLSearchParams;
  user: UserInfo;
  store: ResourceStore;
}

/** Answers a create-only kind (KindDefinition.createOnly, e.g. SubjectAccessReview): given the validated
 * object and the user the request acts as, returns it with its status filled in. */
export interface CreateOnlyAnswerer {
  group: string;
  plural: string;
  answer(obj: KubeObject, user: UserInfo): KubeObject | Promise<KubeObject>;
}

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
  /** Only /readyz runs it: failing it means "send no traffic here", not "restart me". */
  readinessOnly?: boolean;
}

export interface HandlerOptions {
  registry: Registry;
  authenticator: Authenticator;
  authorizer: Authorizer;
  healthChecks: HealthCheck[];
  subresources: SubresourceHandler[];
  answerers: CreateOnlyAnswerer[];
  /** Where gateways' rate limit and quota counters are kept (see api/counters.ts). */
  counters: CounterStore;
  version: Record<string, string>;
  /** kube-apiserver's --min-request-timeout: bounds how long a watch lasts (see watch.ts). */
  minRequestTimeoutSeconds?: number;
  /** kube-apiserver's --request-timeout: every other request is answered within it (request-timeout.ts). */
  requestTimeoutMs?: number;
  /** Logs a failed request (5xx) once; messages never hold request bodies. */
  onError?(err: unknown, req: IncomingMessage): void;
  /** Told of every request whose credentials were accepted (see connections.ts). */
  onAuthenticated?(req: IncomingMessage): void;
  /** Validating admission of every create, update, patch and delete by `user` (RBAC's escalation check, the
   * GitOps lock); `obj` is absent on a delete, `old` on a create. */
  admit?(user: UserInfo, def: KindDefinition, obj: KubeObject | undefined, old: KubeObject | undefined): Promise<void>;
  /** Records every authenticated or refused request (audit/audit-log.ts). */
  audit?: AuditLog;
}

const OPEN_PATHS = /^\/(version|healthz|livez|readyz)(\/|$)/;

const CONTENT_TYPES: Record<Representation['encoding'], string> = {
  json: 'application/json',
  yaml: 'application/yaml',
  protobuf: PROTOBUF_TYPE,
};

/** Writes `body` (an object, or JSON text already made) in `encoding`; protobuf bodies are objects. */
function send(
  res: ServerResponse,
  code: number,
  body: unknown,
  encoding: Representation['encoding'] = 'json',
  headers: Record<string, string | string[]> = {},
): void {
  // Already answered: the request timed out (request-timeout.ts).
  if (res.writableEnded) return;
  const payload =
    encoding === 'protobuf'
      ? encodeProtobuf(body as Record<string, unknown>)
      : typeof body === 'string'
        ? body
        : encoding === 'yaml'
          ? toYaml(body)
          : JSON.stringify(body);
  res.writeHead(code, {
    'content-type': CONTENT_TYPES[encoding],
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-cache, private',
    ...headers,
  });
  res.end(payload);
}

/** Writes the error's Status, as JSON unless the request's answer was negotiated as protobuf. */
export function sendError(res: ServerResponse, err: ApiError, encoding: Representation['encoding'] = 'json'): void {
  if (res.writableEnded) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, err.code, err.toStatus(), encoding === 'protobuf' ? 'protobuf' : 'json');
}

/** Warning headers (RFC 7234 quoted strings). A warning may quote what the client sent,
 * and a header holds only Latin-1: other characters are written as \uXXXX escapes. */
function warningHeaders(warnings: string[]): Record<string, string[]> {
  const unicodeEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  const quote = (w: string) => JSON.stringify(w).replace(/[^\x20-\x7e]/g, unicodeEscape);
  return warnings.length ? { warning: warnings.map((w) => `299 - ${quote(w)}`) } : {};
}

export function createHandler(options: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { registry } = options;
  const minRequestTimeout = options.minRequestTimeoutSeconds ?? DEFAULT_MIN_REQUEST_TIMEOUT_SECONDS;
  const documents = new DiscoveryDocuments(registry.kinds, options.subresources);
  documents.prerender();

  async function health(res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const [endpoint, only] = path.slice(1).split('/');
    const excluded = new Set(query.getAll('exclude'));
    const checks = options.healthChecks
      .filter((c) => endpoint === 'readyz' || !c.readinessOnly)
      .filter((c) => (only ? c.name === only : !excluded.has(c.name)));
    if (only && checks.length === 0) throw errors.notFoundPath(path);
    const lines: string[] = [];
    let failed = false;
    for (const c of checks) {
      try {
        await c.check();
        lines.push(`[+]${c.name} ok`);
      } catch (err) {
        failed = true;
        lines.push(`[-]${c.name} failed: ${(err as Error).message}`);
      }
    }
    const verbose = query.has('verbose') || failed;
    const summary = failed ? `${endpoint} check failed` : `${endpoint} check passed`;
    const text = verbose ? `${lines.join('\n')}\n${summary}\n` : 'ok';
    res.writeHead(failed ? 500 : 200, {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
    });
    res.end(text);
  }

  function authorize(
    user: UserInfo,
    verb: string,
    info: { group: string; resource: string; subresource?: string; namespace?: string; name?: string },
  ): Promise<void> {
    return assertAuthorized(options.authorizer, { user, verb, ...info });
  }

  /** Discovery and other non-resource paths are authorized by path (kube's system:discovery role). */
  function authorizePath(user: UserInfo, verb: string, path: string): Promise<void> {
    return assertAuthorized(options.authorizer, {
      user,
      verb,
      isResourceRequest: false,
      path,
      group: '',
      resource: '',
    });
  }

  /** Decodes a request body and hands it to the audit log (kube's audit.LogRequestObject). */
  function requestObject(
    req: IncomingMessage,
    raw: Buffer,
    what: string,
    decodeOptions: { protobuf?: boolean } = {},
    contentType = req.headers['content-type'],
  ): unknown {
    const body = decodeBody(raw, contentType, what, decodeOptions);
    options.audit?.requestObject(req, body);
    return body;
  }

  /** Requests whose answer was negotiated as protobuf: their errors are protobuf Statuses, as kube-apiserver
   * writes a built-in kind's errors in the negotiated media type. */
  const protobufAnswers = new WeakSet<IncomingMessage>();

  /** How a response about `def` is written, from the request's Accept: protobuf only for built-in kinds,
   * as kube-apiserver; negotiated before any write, so an unacceptable Accept changes nothing (406). */
  function representationFor(req: IncomingMessage, def: KindDefinition): Representation {
    const representation = negotiate(req.headers.accept, true, encodesProtobuf(apiVersionOf(def), def.kind));
    if (representation.encoding === 'protobuf') protobufAnswers.add(req);
    return representation;
  }

  function writeOptionsFor(
    req: IncomingMessage,
    query: URLSearchParams,
    user: UserInfo,
    def: KindDefinition,
  ): WriteOptions {
    const { admit } = options;
    const userAgent = req.headers['user-agent'];
    return { ...writeOptions(query), userAgent, user, admit: admit && ((obj, old) => admit(user, def, obj, old)) };
  }

  async function resource(
    req: IncomingMessage,
    res: ServerResponse,
    info: ResourceRequest,
    query: URLSearchParams,
    user: UserInfo,
  ): Promise<void> {
    const store =
      info.version && registry.kinds.some((k) => k.group === info.group && k.version === info.version)
        ? registry.store(info.group, info.resource)
        : undefined;
    if (!store) throw errors.notFoundPath(`${req.method} ${req.url?.split('?')[0]}`);
    const def = store.def;
    if (info.namespace !== undefined && !def.namespaced)
      throw errors.notFoundPath(`${req.method} ${req.url?.split('?')[0]}`);
    const namespace = info.namespace ?? '';
    const method = req.method ?? 'GET';
    const watch = info.watchPrefix || boolParam(query, 'watch') === true;

    if (def.createOnly) return answer(req, res, store, info, query, user);
    if (info.subresource && info.subresource !== 'status') {
      return subresource(req, res, store, info, query, user);
    }
    if (info.subresource === 'status' && !def.statusSubresource)
      throw errors.notFoundPath(`${method} ${req.url?.split('?')[0]}`);

    if (!info.name) {
      if (def.namespaced && info.namespace === undefined && method !== 'GET') {
        throw errors.methodNotAllowed(method, `${def.plural} across all namespaces`);
      }
      switch (method) {
        case 'GET': {
          const verb = watch ? 'watch' : 'list';
          const selected = { group: def.group, resource: def.plural, namespace: info.namespace };
          await authorize(user, verb, { ...selected, name: selectedName(query) });
          const representation = representationFor(req, def);
          if (watch) {
            const [list, include] = [listOptionsOf(query), includeObjectOf(query)];
            return serveWatch(req, res, store, info.namespace, list, representation, include, minRequestTimeout);
          }
          return list(res, store, info.namespace, query, representation);
        }
        case 'POST': {
          await authorize(user, 'create', { group: def.group, resource: def.plural, namespace: info.namespace });
          const opts = writeOptionsFor(req, query, user, def);
          const { encoding } = representationFor(req, def);
          const body = requestObject(req, await readBody(req), `a new ${def.kind}`, { protobuf: true });
          const result = await store.create(namespace, body, opts);
          return send(res, 201, result.object, encoding, warningHeaders(result.warnings));
        }
        case 'DELETE': {
          await authorize(user, 'deletecollection', {
            group: def.group,
            resource: def.plural,
            namespace: info.namespace,
          });
          const opts = writeOptionsFor(req, query, user, def);
          const { encoding } = representationFor(req, def);
          const raw = await readBody(req);
          const body = raw.length ? requestObject(req, raw, 'DeleteOptions') : undefined;
          const deleteOptions = deleteOptionsOf(query, body as Record<string, unknown> | undefined);
          const { labelSelector, fieldSelector } = listOptionsOf(query);
          const page = await store.list(info.namespace, { labelSelector, fieldSelector });
          const deleted: KubeObject[] = [];
          for (const item of page.items) {
            const obj = JSON.parse(item) as KubeObject;
            try {
              deleted.push(
                (await store.delete(obj.metadata.namespace ?? '', obj.metadata.name as string, deleteOptions, opts))
                  .object,
              );
            } catch (err) {
              if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
            }
          }
          const list = {
            apiVersion: store.apiVersion,
            kind: def.listKind,
            metadata: { resourceVersion: page.resourceVersion },
          };
          return send(res, 200, { ...list, items: deleted }, encoding);
        }
        default:
          throw errors.methodNotAllowed(method, def.plural);
      }
    }

    const name = info.name;
    const sub = info.subresource === 'status' ? ('status' as const) : undefined;
    const target = { group: def.group, resource: def.plural, subresource: sub, namespace: info.namespace, name };
    switch (method) {
      case 'GET': {
        if (watch) {
          await authorize(user, 'watch', target);
          const list = listOptionsOf(query);
          list.fieldSelector = [list.fieldSelector, `metadata.name=${name}`].filter(Boolean).join(',');
          const [representation, include] = [representationFor(req, def), includeObjectOf(query)];
          return serveWatch(req, res, store, info.namespace, list, representation, include, minRequestTimeout);
        }
        await authorize(user, 'get', target);
        const representation = representationFor(req, def);
        const obj = await store.get(namespace, name);
        return sendObject(res, store.def, obj, representation, includeObjectOf(query));
      }
      case 'PUT': {
        await authorize(user, 'update', target);
        const opts = writeOptionsFor(req, query, user, def);
        const { encoding } = representationFor(req, def);
        const body = requestObject(req, await readBody(req), `${def.kind} "${name}"`, { protobuf: true });
        const result = await store.update(namespace, name, body, opts, sub);
        return send(res, 200, result.object, encoding, warningHeaders(result.warnings));
      }
      case 'PATCH': {
        await authorize(user, 'patch', target);
        const authorizeCreate = () => authorize(user, 'create', target);
        const opts = { ...writeOptionsFor(req, query, user, def), authorizeCreate };
        const type = patchTypeOf(req.headers['content-type'], def.group === '');
        const { encoding } = representationFor(req, def);
        // An apply configuration is YAML (JSON included); other patches are JSON.
        const media = type === 'apply' ? PATCH_TYPES.apply : 'application/json';
        const patchOf = `the patch of ${def.kind} "${name}"`;
        const body = requestObject(req, await readBody(req), patchOf, {}, media);
        const result = await store.patch(namespace, name, type, body, opts, sub);
        return send(res, result.created ? 201 : 200, result.object, encoding, warningHeaders(result.warnings));
      }
      case 'DELETE': {
        if (sub) throw errors.methodNotAllowed(method, `${def.plural}/status`);
        await authorize(user, 'delete', target);
        const opts = writeOptionsFor(req, query, user, def);
        const { encoding } = representationFor(req, def);
        const raw = await readBody(req);
        const what = `DeleteOptions for ${def.kind} "${name}"`;
        const body = raw.length ? requestObject(req, raw, what) : undefined;
        const deleteOptions = deleteOptionsOf(query, body as Record<string, unknown> | undefined);
        const result =
          def.kind === 'Namespace' && def.group === ''
            ? await registry.deleteNamespace(name, deleteOptions, opts)
            : await store.delete(namespace, name, deleteOptions, opts);
        return send(res, result.pending ? 202 : 200, result.object, encoding);
      }
      default:
        throw errors.methodNotAllowed(method, `${def.plural}/${name}`);
    }
  }

  /** A create-only kind takes a POST to its collection, validated by its store and answered, never stored. */
  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    store: ResourceStore,
    info: ResourceRequest,
    query: URLSearchParams,
    user: UserInfo,
  ): Promise<void> {
    const def = store.def;
    const answerer = options.answerers.find((a) => a.group === def.group && a.plural === def.plural);
    const path = `${req.method} ${req.url?.split('?')[0]}`;
    if (!answerer || info.name || info.watchPrefix) throw errors.notFoundPath(path);
    if (req.method !== 'POST') throw errors.methodNotAllowed(req.method ?? '', def.plural);
    await authorize(user, 'create', { group: def.group, resource: def.plural, namespace: info.namespace });
    const { encoding } = representationFor(req, def);
    const body = requestObject(req, await readBody(req), `a new ${def.kind}`, { protobuf: true });
    const result = await store.create(info.namespace ?? '', body, writeOptions(query));
    send(res, 201, await answerer.answer(result.object, user), encoding, warningHeaders(result.warnings));
  }

  async function subresource(
    req: IncomingMessage,
    res: ServerResponse,
    store: ResourceStore,
    info: ResourceRequest,
    query: URLSearchParams,
    user: UserInfo,
  ): Promise<void> {
    const def = store.def;
    const handler = options.subresources.find(
      (s) => s.group === def.group && s.plural === def.plural && s.name === info.subresource,
    );
    const method = req.method ?? 'GET';
    if (!handler || !info.name) throw errors.notFoundPath(`${method} ${req.url?.split('?')[0]}`);
    const verb = method === 'GET' ? 'get' : method === 'POST' ? 'create' : undefined;
    if (!verb || !handler.verbs.includes(verb))
      throw errors.methodNotAllowed(method, `${def.plural}/${info.subresource}`);
    await authorize(user, verb, {
      group: def.group,
      resource: def.plural,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
    });
    const raw = verb === 'create' ? await readBody(req) : Buffer.alloc(0);
    const what = `${def.kind} "${info.name}" ${info.subresource}`;
    // `kubectl create token` sends its TokenRequest as protobuf.
    const body = raw.length ? requestObject(req, raw, what, { protobuf: true }) : undefined;
    // The parent must exist; handlers may rely on it.
    await store.get(info.namespace ?? '', info.name);
    const out = await handler.handle({
      verb,
      namespace: info.namespace ?? '',
      name: info.name,
      body,
      query,
      user,
      store,
    });
    send(res, out.code ?? 200, out.body);
  }

  async function list(
    res: ServerResponse,
    store: ResourceStore,
    namespace: string | undefined,
    query: URLSearchParams,
    representation: Representation,
  ): Promise<void> {
    const page = await store.list(namespace, listOptionsOf(query));
    const listMeta: Record<string, unknown> = { resourceVersion: page.resourceVersion };
    if (page.continue) listMeta.continue = page.continue;
    if (page.remainingItemCount !== undefined) listMeta.remainingItemCount = page.remainingItemCount;
    const def = store.def;
    if (representation.shape === 'object' && representation.encoding === 'json') {
      // Stored texts are spliced in as they are: no parse and re-serialise per item.
      const head = JSON.stringify({ kind: def.listKind, apiVersion: store.apiVersion, metadata: listMeta });
      return send(res, 200, `${head.slice(0, -1)},"items":[${page.items.join(',')}]}`);
    }
    const objects = page.items.map((i) => JSON.parse(i) as KubeObject);
    if (representation.shape === 'table') {
      return send(
        res,
        200,
        table(def, objects, listMeta, includeObjectOf(query), representation.metaVersion),
        representation.encoding,
      );
    }
    if (representation.shape === 'metadata') {
      return send(
        res,
        200,
        {
          kind: 'PartialObjectMetadataList',
          apiVersion: `meta.k8s.io/${representation.metaVersion}`,
          metadata: listMeta,
          items: objects.map((o) => partialMetadata(o, representation.metaVersion)),
        },
        representation.encoding,
      );
    }
    return send(
      res,
      200,
      { kind: def.listKind, apiVersion: store.apiVersion, metadata: listMeta, items: objects },
      representation.encoding,
    );
  }

  function sendObject(
    res: ServerResponse,
    def: KindDefinition,
    obj: KubeObject,
    representation: Representation,
    include: IncludeObject,
  ): void {
    if (representation.shape === 'table') {
      send(
        res,
        200,
        table(def, [obj], { resourceVersion: obj.metadata.resourceVersion }, include, representation.metaVersion),
        representation.encoding,
      );
    } else if (representation.shape === 'metadata') {
      send(res, 200, partialMetadata(obj, representation.metaVersion), representation.encoding);
    } else {
      send(res, 200, obj, representation.encoding);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw errors.badRequest('the request target is not a valid URL path');
    }
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const query = url.searchParams;
    assertNoNul(query);
    const timeoutMs = requestTimeoutOf(path, query, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    if (timeoutMs !== undefined) answerWithin(res, timeoutMs, () => sendError(res, errors.requestTimeout()));
    if (path === '/version') return send(res, 200, options.version);
    if (OPEN_PATHS.test(path)) return health(res, path, query);

    const authenticated = await options.authenticator.authenticate(req);
    options.audit?.begin(req, res, authenticated, path, query);
    if (!authenticated) throw errors.unauthorized();
    options.onAuthenticated?.(req);
    // Authentication, then impersonation, then authorization of the user the request acts as.
    const identity = await impersonate(req, authenticated, options.authorizer);
    if (identity.impersonator) options.audit?.impersonating(req, identity.user);
    const { user } = identity;

    if (path === COUNTERS_PATH) {
      if (req.method !== 'POST') throw errors.methodNotAllowed(req.method ?? '', 'counters');
      await authorize(user, 'create', COUNTERS_REF);
      return send(res, 200, await serveCounters(req, options.counters, user));
    }

    const document = documents.serve(path, req.headers.accept, `${req.socket.localAddress}:${req.socket.localPort}`);
    if (document) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw errors.methodNotAllowed(req.method ?? '', path);
      await authorizePath(user, req.method.toLowerCase(), path);
      if (document.notModified(req.headers['if-none-match'])) {
        res.writeHead(304, document.headers);
        res.end();
        return;
      }
      res.writeHead(document.code ?? 200, { ...document.headers, 'content-length': document.body.length });
      res.end(req.method === 'HEAD' ? undefined : document.body);
      return;
    }
    const info = parseResourcePath(path);
    if (!info) throw errors.notFoundPath(path);
    return resource(req, res, info, query, user);
  }

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const apiError =
        err instanceof ApiError ? err : errors.internal(err instanceof Error ? err.message : String(err), err);
      if (apiError.code >= 500) options.onError?.(err, req);
      sendError(res, apiError, protobufAnswers.has(req) ? 'protobuf' : 'json');
    });
  };
}
