// kube-apiserver's audit log for Gatehouse's request path. The handler calls begin() once the
// request's credentials have been checked (a refused request is recorded too), tells the
// authorizer's decision, the decoded request body and, with impersonation, the user the request
// acts as; the response is followed from here (its body as it ends, its close), as kube wraps
// the response writer. Events go to the writer as one JSON line each, at the stages the policy
// does not omit: RequestReceived at begin, ResponseStarted when a watch's headers go out,
// ResponseComplete when the response ended, Panic instead when it ended in an unexpected 500.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { AuthorizationDecision, Authorizer, UserInfo } from '../auth/auth.ts';
import { defaultAuditPolicy } from './default-policy.ts';
import { decodeProtobuf, PROTOBUF_TYPE } from '../http/protobuf.ts';
import { auditUser, microTime, requestAttributes, sourceIPs, type AuditEvent, type ObjectReference } from './event.ts';
import { auditConfigFor, levelAtLeast, type AuditPolicy, type RequestAuditConfig, type Stage } from './policy.ts';
import { bodiesOmitted, redactBody } from './redact.ts';
import { LogFileWriter, type LogFileOptions } from '../../log/log-file.ts';

export const AUDIT_ID_HEADER = 'Audit-Id';
/** The annotation recording the field manager of a write (the fieldManager parameter, or kube's
 * default: the user agent up to its first `/`). */
export const FIELD_MANAGER_ANNOTATION = 'gatehouse.dev/field-manager';

const WRITE_VERBS = new Set(['create', 'update', 'patch']);
/** An Audit-Id a caller may pass on (kube-apiserver's proxied requests carry its own); anything
 * else gets a new one. */
const GIVEN_AUDIT_ID = /^[\x21-\x7e]{1,128}$/;

export interface AuditSink {
  write(line: string): void;
  close(): Promise<void>;
}

interface RequestAudit {
  event: AuditEvent;
  config: RequestAuditConfig;
  requestBody?: unknown;
  responseBody?: string | Buffer;
  done?: boolean;
  /** Its user object is another request's too: a decision cannot be told apart. */
  sharedUser?: boolean;
}

/** kube-apiserver's --audit-policy-file (parsed; the built-in default without one), --audit-log-path,
 * --audit-log-maxsize and --audit-log-maxbackup. */
export interface AuditLogOptions extends Omit<LogFileOptions, 'onProblem' | 'name'> {
  policy?: AuditPolicy;
}

/** An audit log writing to a file (or stdout); `onProblem` hears of events dropped (log/log-file.ts). */
export function openAuditLog(options: AuditLogOptions, onProblem?: LogFileOptions['onProblem']): AuditLog {
  const { policy, ...writer } = options;
  return new AuditLog(policy ?? defaultAuditPolicy, new LogFileWriter({ ...writer, name: 'audit log', onProblem }));
}

export class AuditLog {
  private readonly requests = new WeakMap<IncomingMessage, RequestAudit>();
  /** Requests by the user objects they are authorized as (the authenticated or impersonated one). */
  private readonly byUser = new WeakMap<UserInfo, RequestAudit>();

  constructor(
    private readonly policy: AuditPolicy,
    private readonly sink: AuditSink,
    private readonly now = Date.now,
  ) {}

  /** Starts the record of a request; `user` is undefined when its credentials were refused. Every
   * request gets an Audit-Id header, the caller's own (kube-apiserver passes its) or a new one. */
  begin(
    req: IncomingMessage,
    res: ServerResponse,
    user: UserInfo | undefined,
    path: string,
    query: URLSearchParams,
  ): void {
    const given = req.headers['audit-id'];
    const auditID = typeof given === 'string' && GIVEN_AUDIT_ID.test(given) ? given : randomUUID();
    res.setHeader(AUDIT_ID_HEADER, auditID);
    const method = req.method ?? 'GET';
    const { attributes, objectRef } = requestAttributes(method, path, query);
    const config = auditConfigFor(this.policy, { ...attributes, user });
    if (config.level === 'None') return;
    const received = microTime(this.now());
    const userAgent = req.headers['user-agent'];
    const event: AuditEvent = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: config.level,
      auditID,
      stage: 'RequestReceived',
      requestURI: req.url ?? path,
      verb: attributes.verb,
      user: user ? auditUser(user) : { username: '' },
      sourceIPs: sourceIPs(req),
      ...(userAgent ? { userAgent } : {}),
      ...(objectRef ? { objectRef } : {}),
      requestReceivedTimestamp: received,
      stageTimestamp: received,
    };
    if (WRITE_VERBS.has(attributes.verb) && attributes.isResourceRequest) {
      const manager = query.get('fieldManager') || userAgent?.split('/')[0];
      if (manager) event.annotations = { [FIELD_MANAGER_ANNOTATION]: manager };
    }
    const record: RequestAudit = { event, config };
    this.requests.set(req, record);
    if (user) this.track(user, record);
    this.emit(record, 'RequestReceived');
    this.follow(record, res, attributes.verb === 'watch');
  }

  /** The request acts as `user` (impersonation); the authenticated user stays its `user`. */
  impersonating(req: IncomingMessage, user: UserInfo): void {
    const record = this.requests.get(req);
    if (!record) return;
    record.event.impersonatedUser = auditUser(user);
    this.track(user, record);
  }

  /** The authorizer's answer for the request `user` is the identity of. */
  authorized(user: UserInfo, decision: AuthorizationDecision): void {
    this.annotate(user, {
      'authorization.k8s.io/decision': decision.allowed ? 'allow' : 'forbid',
      'authorization.k8s.io/reason': decision.reason ?? '',
    });
  }

  /** Annotations of the request `user` is the identity of (kube's audit.AddAuditAnnotation): the authorizer's
   * answer, an admission's decision. */
  annotate(user: UserInfo, annotations: Record<string, string>): void {
    const record = this.byUser.get(user);
    if (!record || record.sharedUser) return;
    record.event.annotations = { ...record.event.annotations, ...annotations };
  }

  /** `authorizer`, its answers about a request's user recorded as the request's
   * authorization.k8s.io/decision and reason annotations. The request is found by its user
   * object; authenticators make one per request, but where two requests in flight share one
   * (a cached identity), neither gets the annotations rather than the other's. */
  recordingDecisions(authorizer: Authorizer): Authorizer {
    return {
      authorize: async (attrs) => {
        const decision = await authorizer.authorize(attrs);
        this.authorized(attrs.user, decision);
        return decision;
      },
    };
  }

  /** The decoded request body (kube's LogRequestObject); names the object of a create. */
  requestObject(req: IncomingMessage, body: unknown): void {
    const record = this.requests.get(req);
    if (record) record.requestBody = body;
  }

  close(): Promise<void> {
    return this.sink.close();
  }

  /** Follows the response: its headers for a watch, its last body, its end. */
  private follow(record: RequestAudit, res: ServerResponse, watch: boolean): void {
    if (watch && !record.config.omitStages.includes('ResponseStarted')) {
      const writeHead = res.writeHead;
      res.writeHead = ((...args: unknown[]) => {
        record.event.responseStatus = { metadata: {}, code: args[0] as number };
        this.emit(record, 'ResponseStarted');
        return (writeHead as (...a: unknown[]) => ServerResponse).apply(res, args);
      }) as typeof res.writeHead;
    }
    if (!watch) {
      const end = res.end;
      res.end = ((...args: unknown[]) => {
        if (typeof args[0] === 'string' || Buffer.isBuffer(args[0])) record.responseBody = args[0];
        return (end as (...a: unknown[]) => ServerResponse).apply(res, args);
      }) as typeof res.end;
    }
    res.once('close', () => this.complete(record, res));
  }

  private track(user: UserInfo, record: RequestAudit): void {
    const other = this.byUser.get(user);
    if (other && !other.done && other !== record) other.sharedUser = record.sharedUser = true;
    this.byUser.set(user, record);
  }

  private complete(record: RequestAudit, res: ServerResponse): void {
    record.done = true;
    const { event, config } = record;
    const code = res.statusCode;
    const response = this.responseObjectOf(record, res);
    event.responseStatus = { metadata: {}, code };
    if (code >= 400 && isStatus(response)) {
      const { status, reason, message } = response;
      event.responseStatus = { ...event.responseStatus, status, reason, message };
    }
    const ref = event.objectRef;
    if (ref && !ref.name && !nameFrom(ref, record.requestBody) && code < 300) nameFrom(ref, response);
    if (!bodiesOmitted(ref)) {
      if (record.requestBody !== undefined && levelAtLeast(config.level, 'Request')) {
        event.requestObject = strip(redactBody(ref, record.requestBody), config.omitManagedFields);
      }
      if (response !== undefined && levelAtLeast(config.level, 'RequestResponse')) {
        event.responseObject = strip(redactBody(ref, response), config.omitManagedFields);
      }
    }
    const panic = code === 500 && isStatus(response) && response.reason === 'InternalError';
    this.emit(record, panic ? 'Panic' : 'ResponseComplete');
  }

  /** The object the response carried, whatever its encoding (kube records the object, not its
   * bytes); decoded only when something will read it. */
  private responseObjectOf(record: RequestAudit, res: ServerResponse): unknown {
    const body = record.responseBody;
    if (body === undefined) return undefined;
    const ref = record.event.objectRef;
    const unnamedCreate = record.event.verb === 'create' && ref !== undefined && !ref.name;
    const wanted = res.statusCode >= 400 || unnamedCreate || levelAtLeast(record.config.level, 'RequestResponse');
    if (!wanted) return undefined;
    const type = String(res.getHeader('content-type') ?? '')
      .split(';')[0]
      .trim();
    try {
      if (type === PROTOBUF_TYPE) return decodeProtobuf(Buffer.from(body), 'the response');
      if (type.endsWith('yaml')) return parseYaml(body.toString());
      return type.endsWith('json') ? JSON.parse(body.toString()) : undefined;
    } catch {
      return undefined;
    }
  }

  private emit(record: RequestAudit, stage: Stage): void {
    if (record.config.omitStages.includes(stage)) return;
    record.event.stage = stage;
    record.event.stageTimestamp = microTime(this.now());
    this.sink.write(JSON.stringify(record.event));
  }
}

function isStatus(value: unknown): value is { kind: 'Status'; status?: string; reason?: string; message?: string } {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Status';
}

/** Fills the object's name (and namespace) from a body's metadata; true when it did. */
function nameFrom(ref: ObjectReference, body: unknown): boolean {
  const meta = (body as { metadata?: { name?: unknown; namespace?: unknown } } | null | undefined)?.metadata;
  if (typeof meta?.name !== 'string' || !meta.name) return false;
  ref.name = meta.name;
  if (ref.namespace === undefined && typeof meta.namespace === 'string' && meta.namespace) {
    ref.namespace = meta.namespace;
  }
  return true;
}

/** A body without metadata.managedFields (its items' too, for lists), when the policy omits them. */
function strip(body: unknown, omitManagedFields: boolean): unknown {
  if (!omitManagedFields || typeof body !== 'object' || body === null) return body;
  const object = body as { metadata?: Record<string, unknown>; items?: unknown[] };
  const items = Array.isArray(object.items) ? object.items.map((i) => strip(i, true)) : object.items;
  if (object.metadata?.managedFields === undefined && items === object.items) return body;
  const { managedFields: _, ...metadata } = object.metadata ?? {};
  return { ...object, ...(object.metadata ? { metadata } : {}), ...(items ? { items } : {}) };
}
