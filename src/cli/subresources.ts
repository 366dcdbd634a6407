// Subresources the API server answers by asking another component: reconcile and diff by
// the GitOps controller, probe by the gateway. `gatehouse up` runs all three in one process
// and attaches them once they are started; until then (or when the API server runs alone)
// these answer 503 ServiceUnavailable naming what is missing.
import { ApiError, errors, type StatusReason } from '../apiserver/errors.ts';
import type { SubresourceHandler } from '../apiserver/http/handler.ts';
import { GatewayProbeError, type ProbeErrorCode } from '../gateway/probe.ts';

export interface ReconcileBody {
  withSource?: boolean;
}

export interface ProbeBody {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}

/** What the subresources need from the controller. */
export interface ControllerFacade {
  reconcileSource(namespace: string, name: string): Promise<unknown>;
  reconcileSync(namespace: string, name: string, withSource: boolean): Promise<unknown>;
  diffSync(namespace: string, name: string): Promise<unknown>;
}

/** What the probe subresource needs from the gateway. */
export interface GatewayFacade {
  probe(namespace: string, name: string, request: ProbeBody): Promise<unknown>;
}

export interface Attachments {
  controller?: ControllerFacade;
  gateway?: GatewayFacade;
}

const GROUP = 'gatehouse.dev';
const VERSION = 'v1alpha1';

export function delegatedSubresources(attached: Attachments): SubresourceHandler[] {
  const controller = (): ControllerFacade => {
    if (!attached.controller) throw errors.unavailable('no GitOps controller is attached to this API server; run it in the same process (gatehouse up)');
    return attached.controller;
  };
  const gateway = (): GatewayFacade => {
    if (!attached.gateway) throw errors.unavailable('no gateway is attached to this API server; run it in the same process (gatehouse up)');
    return attached.gateway;
  };
  return [
    {
      group: GROUP, plural: 'gitrepositories', kind: 'GitRepository', name: 'reconcile', verbs: ['create'],
      handle: async ({ namespace, name }) => ({ body: await controller().reconcileSource(namespace, name) }),
    },
    {
      group: GROUP, plural: 'syncs', kind: 'Sync', name: 'reconcile', verbs: ['create'],
      handle: async ({ namespace, name, body }) => ({ body: await controller().reconcileSync(namespace, name, Boolean(objectBody<ReconcileBody>(body, 'Sync', name, 'reconcile').withSource)) }),
    },
    {
      group: GROUP, plural: 'syncs', kind: 'Sync', name: 'diff', verbs: ['get'],
      responseKind: { group: GROUP, version: VERSION, kind: 'SyncDiff' },
      handle: async ({ namespace, name }) => ({ body: await controller().diffSync(namespace, name) }),
    },
    {
      group: GROUP, plural: 'apidefinitions', kind: 'ApiDefinition', name: 'probe', verbs: ['create'],
      responseKind: { group: GROUP, version: VERSION, kind: 'ProbeResult' },
      handle: async ({ namespace, name, body }) => ({ body: await probe(gateway(), namespace, name, probeBody(objectBody<ProbeBody>(body, 'ApiDefinition', name, 'probe'), name)) }),
    },
  ];
}

const PROBE_STATUS: Record<ProbeErrorCode, StatusReason> = {
  NotServed: 'NotFound',
  BadRequest: 'BadRequest',
  Unavailable: 'ServiceUnavailable',
};

/** The gateway's probe, its refusals turned into Statuses naming the ApiDefinition. */
async function probe(gateway: GatewayFacade, namespace: string, name: string, request: ProbeBody): Promise<unknown> {
  try {
    return await gateway.probe(namespace, name, request);
  } catch (err) {
    if (!(err instanceof GatewayProbeError)) throw err;
    throw new ApiError(PROBE_STATUS[err.code], err.message, { name, group: GROUP, kind: 'apidefinitions' });
  }
}

function objectBody<T>(body: unknown, kind: string, name: string, sub: string): T {
  if (body === undefined) return {} as T;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw errors.badRequest(`${kind} "${name}" ${sub}: the body must be a JSON object`);
  return body as T;
}

function probeBody(body: ProbeBody, name: string): ProbeBody {
  const causes = [];
  if (body.method !== undefined && (typeof body.method !== 'string' || !/^[A-Z]+$/.test(body.method))) causes.push({ reason: 'FieldValueInvalid', field: 'method', message: 'must be an upper-case HTTP method' });
  if (body.path !== undefined && (typeof body.path !== 'string' || !body.path.startsWith('/'))) causes.push({ reason: 'FieldValueInvalid', field: 'path', message: 'must be an absolute path starting with /' });
  if (body.headers !== undefined && (typeof body.headers !== 'object' || body.headers === null || Object.values(body.headers).some((v) => typeof v !== 'string'))) {
    causes.push({ reason: 'FieldValueInvalid', field: 'headers', message: 'must map header names to strings' });
  }
  if (causes.length) throw errors.badRequest(`ApiDefinition "${name}" probe: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);
  return body;
}
