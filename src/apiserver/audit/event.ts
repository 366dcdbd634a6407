// The audit.k8s.io/v1 Event, and what of it can be read off a request before any handler runs:
// the verb and object as kube-apiserver's RequestInfoFactory derives them from the method and
// path, and the source addresses as its SourceIPs does.
import type { IncomingMessage } from 'node:http';
import { parseResourcePath } from '../http/request-info.ts';
import type { AuditAttributes, Level, Stage } from './policy.ts';

export interface AuditUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface ObjectReference {
  resource: string;
  namespace?: string;
  name?: string;
  /** Absent for the core group. */
  apiGroup?: string;
  apiVersion?: string;
  subresource?: string;
}

export interface ResponseStatus {
  metadata: Record<string, never>;
  code: number;
  status?: string;
  reason?: string;
  message?: string;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: Level;
  auditID: string;
  stage: Stage;
  requestURI: string;
  verb: string;
  user: AuditUser;
  impersonatedUser?: AuditUser;
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: ObjectReference;
  responseStatus?: ResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

const RESOURCE_VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch' };

/** Verb and object of a request: `get`/`list`/`watch`/`create`/`update`/`patch`/`delete`/
 * `deletecollection` on a resource, the lower-case method on any other path. */
export function requestAttributes(
  method: string,
  path: string,
  query: URLSearchParams,
): {
  attributes: Omit<AuditAttributes, 'user'>;
  objectRef?: ObjectReference;
} {
  let info: ReturnType<typeof parseResourcePath>;
  try {
    info = parseResourcePath(path);
  } catch {
    info = undefined;
  }
  if (!info) {
    return { attributes: { verb: method.toLowerCase(), isResourceRequest: false, path, group: '', resource: '' } };
  }
  let verb: string;
  if (method === 'GET' || method === 'HEAD') {
    const watch = info.watchPrefix || query.get('watch') === 'true' || query.get('watch') === '1';
    verb = watch ? 'watch' : info.name ? 'get' : 'list';
  } else if (method === 'DELETE') {
    verb = info.name ? 'delete' : 'deletecollection';
  } else {
    verb = RESOURCE_VERBS[method] ?? method.toLowerCase();
  }
  const { group, version, namespace, resource, name, subresource } = info;
  const objectRef: ObjectReference = {
    resource,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(group ? { apiGroup: group } : {}),
    apiVersion: version,
    ...(subresource !== undefined ? { subresource } : {}),
  };
  const attributes = { verb, isResourceRequest: true, path, group, resource, subresource, namespace, name };
  return { attributes, objectRef };
}

/** X-Forwarded-For's addresses, then X-Real-Ip's, then the peer's, each once (kube's utilnet.SourceIPs):
 * behind kube-apiserver or a proxy the first is the client's. */
export function sourceIPs(req: IncomingMessage): string[] {
  const forwarded = [req.headers['x-forwarded-for'] ?? '']
    .flat()
    .join(',')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const realIp = typeof req.headers['x-real-ip'] === 'string' ? req.headers['x-real-ip'].trim() : '';
  const peer = req.socket.remoteAddress?.replace(/^::ffff:/, '');
  const ips = [...forwarded];
  for (const ip of [realIp, peer]) if (ip && !ips.includes(ip)) ips.push(ip);
  return ips;
}

export function auditUser(user: {
  name: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}): AuditUser {
  return {
    username: user.name,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(user.groups?.length ? { groups: user.groups } : {}),
    ...(user.extra && Object.keys(user.extra).length ? { extra: user.extra } : {}),
  };
}

/** RFC 3339 with microseconds, as kube writes audit timestamps. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}
