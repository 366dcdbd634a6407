// Status of the kinds whose readiness is whether what they name exists and can be used:
// Receiver, Consumer, ApiKey, SecurityPolicy, Provider and Alert. Nothing is fetched or applied for them: a
// reconcile reads the object and the objects it names from informer caches, and writes
// observedGeneration and Ready with a constant reason and a message naming every missing
// object — Ready=True, or Ready=False with Stalled=True, since nothing gets better by
// retrying: the watches on the named kinds reconcile the object again when one of them
// appears or changes. A rule may also report a conflict with another object (two Consumers
// claiming one JWT subject) as a `Conflicted` condition, and ask to be reconciled again at
// a time when its verdict changes by itself (an ApiKey's expiry).
import type { KindDefinition, KubeObject } from '../../api/kind.ts';
import type { CommonStatus } from '../../api/status.ts';
import type { Informer } from '../../client/informer.ts';
import type { KubeClient } from '../../client/rest.ts';
import {
  markReady,
  markStalled,
  removeCondition,
  setCondition,
  writeStatus,
  type Reconciler,
  type Request,
  type Result,
} from '../../controller/runtime/index.ts';

/** Condition reasons of Receiver, Consumer, ApiKey, SecurityPolicy, Provider and Alert (a catalogue: tools
 * branch on them). */
export const ReadinessReason = {
  /** Ready=True: everything named exists and can be used. */
  Succeeded: 'Succeeded',
  /** A Secret named by the object does not exist. */
  SecretNotFound: 'SecretNotFound',
  /** A Receiver's Secret has no token key, or an empty one; or a Provider's that needs one. */
  TokenMissing: 'TokenMissing',
  /** A Receiver's token starts or ends with a line break or blank. */
  InvalidToken: 'InvalidToken',
  /** A GitRepository a Receiver lists does not exist. */
  SourceNotFound: 'SourceNotFound',
  /** A SecurityPolicy named by a Consumer or ApiKey does not exist. */
  PolicyNotFound: 'PolicyNotFound',
  /** The Consumer of an ApiKey does not exist. */
  ConsumerNotFound: 'ConsumerNotFound',
  /** An ApiKey's spec.expires has passed. */
  Expired: 'Expired',
  /** An ApiDefinition a SecurityPolicy grants does not exist. */
  ApiNotFound: 'ApiNotFound',
  /** Another Consumer lists one of this Consumer's JWT subjects (Conflicted=True; Ready=False
   * on the Consumers the gateway does not use for it). */
  JWTSubjectConflict: 'JWTSubjectConflict',
  /** A Provider has no address: neither spec.address nor its Secret's address key. */
  AddressMissing: 'AddressMissing',
  /** A Provider's address is not an http(s) URL, or (github, gitlab) names no repository. */
  InvalidAddress: 'InvalidAddress',
  /** A Provider's Secret has a headers key that is not a YAML map of header names to strings. */
  InvalidHeaders: 'InvalidHeaders',
  /** The Provider an Alert names does not exist. */
  ProviderNotFound: 'ProviderNotFound',
} as const;
export type ReadinessReason = (typeof ReadinessReason)[keyof typeof ReadinessReason];

/** Longest wait for a recheck: timers overflow past 2^31 ms (24.8 days), and a day's wait
 * costs one cache read. */
const MAX_RECHECK_MS = 24 * 60 * 60_000;

/** The condition type of a conflict with another object. */
export const CONFLICTED = 'Conflicted';

export interface Finding {
  reason: ReadinessReason;
  message: string;
}

export interface Assessment {
  /** What keeps the object from working, most important first; empty when it works. */
  problems: Finding[];
  /** Ready=True's message. */
  readyMessage: string;
  /** A conflict with other objects, which may or may not be a problem of this one. */
  conflict?: Finding;
  /** The verdict changes by itself then (an expiry): reconcile again at that time. */
  recheckAt?: Date;
  /** Kind-specific status fields besides observedGeneration and conditions. */
  status?: Record<string, unknown>;
}

export interface ReadinessRule<T extends KubeObject> {
  kind: KindDefinition;
  /** The primary objects, from the cache the controller watches. */
  cache: Informer<T>;
  assess(obj: T, now: Date): Assessment;
}

export class ReadinessReconciler<T extends KubeObject & { status?: CommonStatus }> implements Reconciler {
  constructor(
    private readonly client: KubeClient,
    private readonly rule: ReadinessRule<T>,
  ) {}

  async reconcile(request: Request): Promise<Result | undefined> {
    // From the cache: status is all that is written, and a write based on a cached object
    // that lags behind is refused (409) and redone from the stored one by writeStatus.
    const found = this.rule.cache.get(request.namespace, request.name);
    if (!found || found.metadata.deletionTimestamp) return;
    const now = new Date();
    const verdict = this.rule.assess(found, now);
    const target = { ...found, status: { ...structuredClone(found.status ?? {}), ...verdict.status } };
    const [first] = verdict.problems;
    if (first) markStalled(target, first.reason, verdict.problems.map((p) => p.message).join('; '), now);
    else markReady(target, ReadinessReason.Succeeded, verdict.readyMessage, now);
    const { conflict } = verdict;
    const conditions = target.status.conditions;
    target.status.conditions = conflict
      ? setCondition(conditions, { type: CONFLICTED, status: 'True', ...conflict }, found.metadata.generation, now)
      : removeCondition(conditions, CONFLICTED);
    await writeStatus(this.client, this.rule.kind, found, target.status as NonNullable<T['status']>);
    if (!verdict.recheckAt) return;
    return { requeueAfterMs: Math.min(MAX_RECHECK_MS, Math.max(1, verdict.recheckAt.getTime() - now.getTime())) };
  }
}
