// A small typed client for the Kubernetes REST API over undici: the verbs Gatehouse
// components use (get, list, create, update, patch, delete, watch) on any resource that
// a ResourceRef names. A KindDefinition from src/api satisfies ResourceRef, so callers
// pass the kind they mean, not a URL.
import { readFile } from 'node:fs/promises';
import { Agent, type Dispatcher } from 'undici';
import type { KubeObject } from '../api/kind.ts';
import { GATEHOUSE_VERSION } from '../api/version.ts';
import { ApiStatusError, statusFromBody, type Status } from './errors.ts';
import type { ClientConfig } from './kubeconfig.ts';

/** What the client needs to build a resource URL. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export interface ListOptions {
  /** Restricts to one namespace; absent lists across all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

/** Query parameters of a create or update (kube-apiserver's names and values). */
export interface WriteOptions {
  /** `dryRun=All`: validated and answered as the write would be, stored nothing. */
  dryRun?: boolean;
  /** Strict refuses unknown fields (400, one cause per field); Warn, the server's default,
   * and Ignore drop them. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

/** Query parameters of a server-side apply. */
export interface ServerSideApplyOptions extends WriteOptions {
  /** The manager that owns the applied fields (required by the server for an apply). */
  fieldManager: string;
  /** Take fields other managers own instead of failing with a 409 per field. */
  force?: boolean;
}

export interface ObjectList<T> {
  items: T[];
  metadata: { resourceVersion: string; continue?: string };
}

export type PatchType = 'merge' | 'json' | 'strategic';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T }
  | { type: 'ERROR'; object: Status };

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  /** Server-side end of the stream, so a silently dead connection is noticed. */
  timeoutSeconds?: number;
}

/** How often a kubeconfig's tokenFile is read again (client-go's cachingTokenSource reads it once a minute). */
const TOKEN_FILE_REREAD_MS = 60_000;

/** client-go's form (`binary/version (os/arch)`): the API server names a write's field manager after the part
 * before the slash when the request gives no fieldManager, so Gatehouse's own writes are recorded as `gatehouse`. */
export const CLIENT_FIELD_MANAGER = 'gatehouse';
const USER_AGENT = `${CLIENT_FIELD_MANAGER}/v${GATEHOUSE_VERSION} (${process.platform}/${process.arch})`;

export class KubeClient {
  readonly config: ClientConfig;
  /** The token last read from config.tokenFile, and when. */
  private fileToken?: { value: string; readAt: number };
  private readonly agent: Agent;
  /** The user every request acts as (Impersonate-User), when not the credentials' own. */
  private readonly impersonated?: string;

  constructor(config: ClientConfig, impersonation?: { user: string; agent: Agent }) {
    this.config = config;
    this.impersonated = impersonation?.user;
    this.agent =
      impersonation?.agent ??
      new Agent({
        connect: {
          ca: config.ca,
          rejectUnauthorized: !config.insecureSkipTlsVerify,
          cert: config.clientCert,
          key: config.clientKey,
        },
        // Watches stay open for minutes with only bookmarks on them; the server ends them.
        bodyTimeout: 0,
      });
  }

  /** The collection URL path of `ref` in `namespace` (all namespaces when absent). */
  path(ref: ResourceRef, namespace?: string, name?: string): string {
    const root = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
    const ns = ref.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${root}${ns}/${ref.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
  }

  get<T extends KubeObject>(ref: ResourceRef, name: string, namespace?: string): Promise<T> {
    return this.json<T>('GET', this.path(ref, namespace ?? this.defaultNamespace(ref), name));
  }

  list<T extends KubeObject>(ref: ResourceRef, options: ListOptions = {}): Promise<ObjectList<T>> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    if (options.limit) query.set('limit', String(options.limit));
    if (options.continue) query.set('continue', options.continue);
    return this.json<ObjectList<T>>('GET', withQuery(this.path(ref, options.namespace), query));
  }

  create<T extends KubeObject>(ref: ResourceRef, obj: T, options: WriteOptions = {}): Promise<T> {
    return this.json<T>('POST', withQuery(this.path(ref, this.namespaceOf(ref, obj)), writeQuery(options)), obj);
  }

  update<T extends KubeObject>(ref: ResourceRef, obj: T, options: WriteOptions = {}): Promise<T> {
    return this.json<T>(
      'PUT',
      withQuery(this.path(ref, this.namespaceOf(ref, obj), obj.metadata.name), writeQuery(options)),
      obj,
    );
  }

  patch<T extends KubeObject>(
    ref: ResourceRef,
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    namespace?: string,
  ): Promise<T> {
    return this.patchAt<T>(ref, name, '', patch, type, namespace);
  }

  /** Server-side apply of `obj` (PATCH as application/apply-patch+yaml; JSON is YAML): creates it when absent.
   * A metadata.resourceVersion in `obj` is a precondition (409 Conflict when the object moved on). */
  apply<T extends KubeObject>(ref: ResourceRef, obj: T, options: ServerSideApplyOptions): Promise<T> {
    const query = writeQuery(options);
    query.set('fieldManager', options.fieldManager);
    if (options.force) query.set('force', 'true');
    const path = this.path(ref, this.namespaceOf(ref, obj), obj.metadata.name);
    return this.json<T>('PATCH', withQuery(path, query), obj, 'application/apply-patch+yaml');
  }

  /** Patches the status subresource: only `status` (and a `metadata.resourceVersion`
   * precondition) of `patch` counts; spec and metadata edits are ignored by the server. */
  patchStatus<T extends KubeObject>(
    ref: ResourceRef,
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    namespace?: string,
  ): Promise<T> {
    return this.patchAt<T>(ref, name, '/status', patch, type, namespace);
  }

  private patchAt<T>(
    ref: ResourceRef,
    name: string,
    suffix: string,
    patch: unknown,
    type: PatchType,
    namespace?: string,
  ): Promise<T> {
    return this.json<T>(
      'PATCH',
      `${this.path(ref, namespace ?? this.defaultNamespace(ref), name)}${suffix}`,
      patch,
      PATCH_CONTENT_TYPE[type],
    );
  }

  delete(ref: ResourceRef, name: string, namespace?: string): Promise<unknown> {
    return this.json<unknown>('DELETE', this.path(ref, namespace ?? this.defaultNamespace(ref), name));
  }

  /** POSTs `body` as JSON to a path outside the resource collections (such as the
   * counters endpoint) and returns the decoded answer; non-2xx throws ApiStatusError. */
  post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.json<T>('POST', path, body, 'application/json', signal);
  }

  /** Opens a watch and yields its events until the server ends the stream or `signal`
   * aborts. A non-2xx answer to the watch request itself throws ApiStatusError; an error
   * after the stream started arrives as an ERROR event (kube-apiserver's contract). */
  async *watch<T extends KubeObject>(
    ref: ResourceRef,
    options: WatchOptions,
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent<T>> {
    const query = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true' });
    if (options.resourceVersion) query.set('resourceVersion', options.resourceVersion);
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    if (options.timeoutSeconds !== undefined) query.set('timeoutSeconds', String(options.timeoutSeconds));
    const res = await this.send(
      'GET',
      withQuery(this.path(ref, options.namespace), query),
      undefined,
      undefined,
      signal,
    );
    if (res.statusCode >= 300)
      throw new ApiStatusError(statusFromBody(await res.body.text(), res.statusCode), res.statusCode);
    let pending = '';
    try {
      for await (const chunk of res.body) {
        pending += (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line) yield JSON.parse(line) as WatchEvent<T>;
        }
      }
    } finally {
      res.body.destroy();
    }
  }

  /** Calls a subresource that is not status (e.g. `syncs/NAME/diff`): GET without a body,
   * POST with one. */
  subresource<T>(ref: ResourceRef, name: string, subresource: string, namespace?: string, body?: unknown): Promise<T> {
    const path = `${this.path(ref, namespace ?? this.defaultNamespace(ref), name)}/${subresource}`;
    return body === undefined ? this.json<T>('GET', path) : this.json<T>('POST', path, body);
  }

  /** A client whose requests act as `user` (kube's impersonation, client-go's ImpersonationConfig.UserName),
   * over this client's connections: the API server authorizes them as `user` once it allowed this client's
   * credentials to impersonate it. Closing it closes nothing; closing this client closes both. */
  impersonating(user: string): KubeClient {
    return new KubeClient(this.config, { user, agent: this.agent });
  }

  close(): Promise<void> {
    return this.impersonated === undefined ? this.agent.close() : Promise.resolve();
  }

  private defaultNamespace(ref: ResourceRef): string | undefined {
    return ref.namespaced ? this.config.namespace : undefined;
  }

  private namespaceOf(ref: ResourceRef, obj: KubeObject): string | undefined {
    return ref.namespaced ? (obj.metadata.namespace ?? this.config.namespace) : undefined;
  }

  private async json<T>(
    method: Dispatcher.HttpMethod,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    signal?: AbortSignal,
  ): Promise<T> {
    const res = await this.send(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      contentType,
      signal,
    );
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new ApiStatusError(statusFromBody(text, res.statusCode), res.statusCode);
    return JSON.parse(text) as T;
  }

  /** The bearer token: config.tokenFile's as last read (kept when reading it again fails), else config.token. */
  private async token(): Promise<string | undefined> {
    const file = this.config.tokenFile;
    if (!file) return this.config.token;
    const now = Date.now();
    if (!this.fileToken || now - this.fileToken.readAt >= TOKEN_FILE_REREAD_MS) {
      const kept = () => this.fileToken?.value ?? this.config.token;
      const value = await readFile(file, 'utf8').then((text) => text.trim(), kept);
      this.fileToken = { value: value ?? '', readAt: now };
    }
    return this.fileToken.value || undefined;
  }

  private async send(
    method: Dispatcher.HttpMethod,
    path: string,
    body: string | undefined,
    contentType: string | undefined,
    signal?: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    const token = await this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (this.impersonated !== undefined) headers['impersonate-user'] = this.impersonated;
    if (body !== undefined && contentType) headers['content-type'] = contentType;
    const url = new URL(this.config.server + path);
    return this.agent.request({ origin: url.origin, path: url.pathname + url.search, method, headers, body, signal });
  }
}

function writeQuery(options: WriteOptions): URLSearchParams {
  const query = new URLSearchParams();
  if (options.dryRun) query.set('dryRun', 'All');
  if (options.fieldValidation) query.set('fieldValidation', options.fieldValidation);
  return query;
}

function withQuery(path: string, query: URLSearchParams): string {
  const q = query.toString();
  return q ? `${path}?${q}` : path;
}
