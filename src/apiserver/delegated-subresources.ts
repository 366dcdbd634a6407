// Subresources another component answers: reconcile, diff, rollback and resume by the GitOps
// controller, probe by the gateway. The API server that receives the call writes a SubresourceRequest
// (in its own storage, in the parent's namespace), waits for the component to claim it and
// write the answer into its status, deletes it, and answers with what the component wrote.
// Components watch their requests through the Kubernetes API like any other object, so
// this works wherever they run: in the API server's process (`gatehouse up`), as separate
// processes, against any of several API server replicas on one PostgreSQL (the storage
// watch crosses replicas), and behind kube-apiserver, which proxies gatehouse.dev to us.
import type { KubeObject } from '../api/kind.ts';
import {
  RESPONDER_LABEL,
  subresourceRequestKind,
  type ProbeBody,
  type RollbackBody,
  type Responder,
  type SubresourceRequest,
} from '../api/kinds/subresource-request/index.ts';
import { ApiError, errors, STATUS_CODES, type StatusCause, type StatusReason } from './errors.ts';
import type { SubresourceContext, SubresourceHandler } from './http/handler.ts';
import type { Registry } from './registry/registry.ts';
import type { ResourceStore } from './registry/store.ts';

export interface DelegationTiming {
  /** How long a request may wait for a component to take it before the call answers 503:
   * the bound on "is the component there at all". Covers an informer reconnecting. */
  claimTimeoutMs?: number;
  /** How long a taken request may wait for its answer before the call answers 504. */
  answerTimeoutMs?: number;
}

const CLAIM_TIMEOUT_MS = 10_000;
/** Below kube-apiserver's default --request-timeout (60 s), so a caller behind it gets this
 * server's Status naming the object rather than the aggregator's bare timeout. */
const ANSWER_TIMEOUT_MS = 50_000;
/** Requests left behind by a server that stopped while waiting are deleted by the next
 * call made after this long. */
const SWEEP_INTERVAL_MS = 60_000;

const WRITE = { dryRun: false, fieldValidation: 'Strict' } as const;
const GROUP = 'gatehouse.dev';
const VERSION = 'v1alpha1';

const RESPONDERS: Record<Responder, { who: string; run: string }> = {
  controller: { who: 'GitOps controller', run: '`gatehouse controller` (or `gatehouse up`)' },
  gateway: { who: 'gateway', run: '`gatehouse gateway` (or `gatehouse up`) serving this namespace' },
};

interface Limits {
  claim: number;
  answer: number;
}

interface Delegated {
  plural: string;
  kind: string;
  name: string;
  verb: 'get' | 'create';
  responder: Responder;
  responseKind?: string;
  /** Checks the body before any component is asked; throws a 400 naming the field. */
  check?(body: Record<string, unknown>, what: string): void;
}

const DELEGATED: Delegated[] = [
  { plural: 'gitrepositories', kind: 'GitRepository', name: 'reconcile', verb: 'create', responder: 'controller' },
  { plural: 'syncs', kind: 'Sync', name: 'reconcile', verb: 'create', responder: 'controller' },
  { plural: 'syncs', kind: 'Sync', name: 'diff', verb: 'get', responder: 'controller', responseKind: 'SyncDiff' },
  { plural: 'syncs', kind: 'Sync', name: 'rollback', verb: 'create', responder: 'controller', check: checkRollback },
  { plural: 'syncs', kind: 'Sync', name: 'resume', verb: 'create', responder: 'controller' },
  {
    plural: 'apidefinitions',
    kind: 'ApiDefinition',
    name: 'probe',
    verb: 'create',
    responder: 'gateway',
    responseKind: 'ProbeResult',
    check: checkProbe,
  },
];

export function delegatedSubresources(registry: Registry, timing: DelegationTiming = {}): SubresourceHandler[] {
  const requests = registry.store(GROUP, subresourceRequestKind.plural);
  if (!requests) return [];
  const limits: Limits = {
    claim: timing.claimTimeoutMs ?? CLAIM_TIMEOUT_MS,
    answer: timing.answerTimeoutMs ?? ANSWER_TIMEOUT_MS,
  };
  const sweeper = new Sweeper(requests, limits.claim + limits.answer);
  return DELEGATED.map((d) => ({
    group: GROUP,
    plural: d.plural,
    kind: d.kind,
    name: d.name,
    verbs: [d.verb],
    responseKind: d.responseKind ? { group: GROUP, version: VERSION, kind: d.responseKind } : undefined,
    handle: async (context: SubresourceContext) => {
      sweeper.maybeSweep();
      const what = `${d.kind} ${context.namespace}/${context.name} ${d.name}`;
      const body = objectBody(context.body, what);
      d.check?.(body, what);
      return { body: await delegate(requests, d, context, body, what, limits) };
    },
  }));
}

/** Creates the request, waits for its answer, and removes it whatever happened. */
async function delegate(
  requests: ResourceStore,
  d: Delegated,
  context: SubresourceContext,
  body: Record<string, unknown>,
  what: string,
  limits: Limits,
): Promise<unknown> {
  const request: SubresourceRequest = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: subresourceRequestKind.kind,
    metadata: {
      generateName: `${context.name.slice(0, 40)}-${d.name}-`,
      namespace: context.namespace,
      labels: { [RESPONDER_LABEL]: d.responder },
    },
    spec: {
      responder: d.responder,
      target: { resource: d.plural, name: context.name },
      subresource: d.name,
      ...(d.verb === 'create' ? { body } : {}),
      user: context.user.name,
    },
  };
  const created = (await requests.create(context.namespace, request, WRITE)).object as SubresourceRequest;
  const name = created.metadata.name!;
  try {
    const answered = await awaitAnswer(requests, created, limits);
    const details = { name: context.name, group: GROUP, kind: d.plural };
    const { who, run } = RESPONDERS[d.responder];
    switch (answered.outcome) {
      case 'answered': {
        const { response, failure } = answered.request.status ?? {};
        if (failure) {
          const reason = knownReason(failure.reason);
          // kubectl prints an Invalid Status by its causes only ("The syncs "x" is invalid: …"), as kube's are never
          // without one: the refusal's message is the cause.
          const causes = reason === 'Invalid' ? [{ reason: 'FieldValueInvalid', message: failure.message }] : undefined;
          throw new ApiError(reason, failure.message, causes ? { ...details, causes } : details);
        }
        return response;
      }
      case 'unclaimed': {
        const within = seconds(limits.claim);
        const hint = `is ${run} running against this API server?`;
        const message = `${what}: no ${who} took the request within ${within}; ${hint}`;
        throw new ApiError('ServiceUnavailable', message, details);
      }
      case 'unanswered': {
        const by = answered.request.status?.claimedBy;
        const within = seconds(limits.answer);
        const message = `${what}: the ${who} ${by} took the request but did not answer within ${within}`;
        throw new ApiError('Timeout', message, details);
      }
      case 'gone':
        throw new ApiError('ServiceUnavailable', `${what}: the request was deleted before an answer`, details);
    }
  } finally {
    await requests.delete(context.namespace, name, {}, WRITE).catch(() => undefined);
  }
}

type Answer = { outcome: 'answered' | 'unclaimed' | 'unanswered'; request: SubresourceRequest } | { outcome: 'gone' };

/** Follows the request from its creation until it is answered, or the claim or answer
 * time passes. The watch starts at the create's resourceVersion, so no write is missed. */
async function awaitAnswer(requests: ResourceStore, created: SubresourceRequest, limits: Limits): Promise<Answer> {
  const abort = new AbortController();
  let latest = created;
  let timer = setTimeout(() => abort.abort(), limits.claim);
  try {
    const events = await requests.watch(
      created.metadata.namespace,
      {
        fieldSelector: `metadata.name=${created.metadata.name}`,
        resourceVersion: created.metadata.resourceVersion,
      },
      abort.signal,
    );
    for await (const event of events) {
      if (event.type === 'DELETED') return { outcome: 'gone' };
      if (event.type === 'BOOKMARK') continue;
      const wasClaimed = Boolean(latest.status?.claimedBy);
      latest = event.object as SubresourceRequest;
      const { response, failure, claimedBy } = latest.status ?? {};
      if (response !== undefined || failure) return { outcome: 'answered', request: latest };
      if (!wasClaimed && claimedBy) {
        clearTimeout(timer);
        timer = setTimeout(() => abort.abort(), limits.answer);
      }
    }
    if (!abort.signal.aborted) return { outcome: 'gone' };
    return { outcome: latest.status?.claimedBy ? 'unanswered' : 'unclaimed', request: latest };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** Deletes requests older than any call can wait: those of a server that stopped while
 * waiting. Run from calls, at most once per interval, so an idle server does no work. */
class Sweeper {
  private last = 0;

  constructor(
    private readonly requests: ResourceStore,
    private readonly maxAgeMs: number,
  ) {}

  maybeSweep(): void {
    const now = Date.now();
    if (now - this.last < SWEEP_INTERVAL_MS) return;
    this.last = now;
    void this.sweep(now).catch(() => undefined);
  }

  private async sweep(now: number): Promise<void> {
    const page = await this.requests.list(undefined, {});
    for (const item of page.items) {
      const obj = JSON.parse(item) as KubeObject;
      const created = Date.parse(obj.metadata.creationTimestamp ?? '');
      if (now - created < this.maxAgeMs + SWEEP_INTERVAL_MS) continue;
      await this.requests.delete(obj.metadata.namespace ?? '', obj.metadata.name!, {}, WRITE).catch(() => undefined);
    }
  }
}

function knownReason(reason: string): StatusReason {
  return reason in STATUS_CODES ? (reason as StatusReason) : 'InternalError';
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.badRequest(`${what}: the body must be a JSON object`);
  }
  return body as Record<string, unknown>;
}

function checkProbe(body: ProbeBody, what: string): void {
  const causes: StatusCause[] = [];
  if (body.method !== undefined && (typeof body.method !== 'string' || !/^[A-Z]+$/.test(body.method))) {
    causes.push({ reason: 'FieldValueInvalid', field: 'method', message: 'must be an upper-case HTTP method' });
  }
  if (body.path !== undefined && (typeof body.path !== 'string' || !body.path.startsWith('/'))) {
    causes.push({ reason: 'FieldValueInvalid', field: 'path', message: 'must be an absolute path starting with /' });
  }
  const headers = body.headers as unknown;
  const headerValues = typeof headers === 'object' && headers !== null ? Object.values(headers) : undefined;
  if (headers !== undefined && (!headerValues || headerValues.some((v) => typeof v !== 'string'))) {
    causes.push({ reason: 'FieldValueInvalid', field: 'headers', message: 'must map header names to strings' });
  }
  if (causes.length) {
    throw errors.badRequest(`${what}: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);
  }
}

/** Exactly one of revision and steps, well typed; which revisions exist is the controller's to say. */
function checkRollback(body: RollbackBody, what: string): void {
  const causes: StatusCause[] = [];
  const invalid = (field: string, message: string) => causes.push({ reason: 'FieldValueInvalid', field, message });
  for (const field of Object.keys(body).filter((f) => !['revision', 'steps', 'reason'].includes(f))) {
    invalid(field, `unknown field "${field}": expected revision, steps or reason`);
  }
  if (body.revision !== undefined && (typeof body.revision !== 'string' || !body.revision))
    invalid('revision', 'must be a revision of status.history, e.g. main@sha1:<40 hex digits>');
  if (body.steps !== undefined && !(Number.isSafeInteger(body.steps) && body.steps >= 1))
    invalid('steps', 'must be an integer of at least 1');
  if (body.reason !== undefined && typeof body.reason !== 'string') invalid('reason', 'must be a string');
  if (body.revision !== undefined && body.steps !== undefined)
    invalid('revision', 'give either revision or steps, not both');
  if (body.revision === undefined && body.steps === undefined)
    causes.push({ reason: 'FieldValueRequired', field: 'revision', message: 'give revision or steps' });
  if (causes.length) {
    throw errors.badRequest(`${what}: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);
  }
}
