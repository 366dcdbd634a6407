// Runs the Collector in the API server: at once on storage only this process uses (memory,
// PGlite), and on shared storage (PostgreSQL with several replicas) only in the replica that
// holds the `gatehouse-garbage-collector` Lease, so one collector acts at a time. A collector
// whose watch ends starts again on a new graph, listed afresh. Aggregated behind kube-apiserver, the
// Lease is the cluster's (this server serves none), in the server's own namespace.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeObject } from '../../api/kind.ts';
import { leaseKind } from '../../api/core/lease/index.ts';
import { ApiStatusError } from '../../client/errors.ts';
import { LeaderElector, type LeaseClient } from '../../client/leader-election.ts';
import { ApiError } from '../errors.ts';
import type { Registry } from '../registry/registry.ts';
import type { WriteOptions } from '../registry/store.ts';
import { Collector } from './collector.ts';

export const GC_LEASE = { namespace: 'default', name: 'gatehouse-garbage-collector' };
const RESTART_MS = 1000;

export interface GarbageCollectionOptions {
  /** Whether replicas share the storage, so the collector runs only where the Lease is held. */
  elect: boolean;
  /** Where the Lease is kept when not in this server's storage: the cluster's API, in `namespace`. */
  leases?: { client: LeaseClient; namespace: string };
  leaseDurationMs?: number;
  retryPeriodMs?: number;
  onError?(err: unknown): void;
  /** Told when this process starts and stops collecting. */
  onLeading?(leading: boolean): void;
}

export interface GarbageCollection {
  stop(): Promise<void>;
}

export function startGarbageCollection(registry: Registry, options: GarbageCollectionOptions): GarbageCollection {
  let running: { abort: AbortController; done: Promise<void> } | undefined;
  let stopping: Promise<void> = Promise.resolve();
  const start = () => {
    const abort = new AbortController();
    const done = (async () => {
      while (!abort.signal.aborted) {
        // Each run has a signal of its own: a run that failed stops its work loop before the next begins.
        const run = new AbortController();
        const stopRun = () => run.abort();
        abort.signal.addEventListener('abort', stopRun, { once: true });
        try {
          await new Collector(registry, run.signal, options).run();
        } catch (err) {
          if (!abort.signal.aborted) options.onError?.(err);
        } finally {
          abort.signal.removeEventListener('abort', stopRun);
          run.abort();
        }
        if (!abort.signal.aborted) await new Promise((resolve) => setTimeout(resolve, RESTART_MS));
      }
    })();
    running = { abort, done };
    options.onLeading?.(true);
  };
  // Called again while a stop is under way (the elector's hand-over, then close), it waits for the same one.
  const stop = (): Promise<void> => {
    const current = running;
    running = undefined;
    if (current) {
      current.abort.abort();
      stopping = current.done.then(() => options.onLeading?.(false));
    }
    return stopping;
  };
  if (!options.elect) {
    start();
    return { stop };
  }
  const elector = new LeaderElector({
    ...GC_LEASE,
    ...(options.leases ?? { client: registryLeases(registry) }),
    identity: `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`,
    leaseDurationMs: options.leaseDurationMs,
    retryPeriodMs: options.retryPeriodMs,
    onStartedLeading: start,
    onStoppedLeading: () => void stop(),
    onError: options.onError,
  });
  elector.start();
  return {
    async stop() {
      await elector.stop();
      await stop();
    },
  };
}

const WRITE: WriteOptions = { dryRun: false, fieldValidation: 'Ignore' };

/** The elector's Lease calls answered by this process's registry, failures as the HTTP API gives them. */
function registryLeases(registry: Registry): LeaseClient {
  const store = registry.store(leaseKind.group, leaseKind.plural);
  if (!store) throw new Error('the Lease kind is not registered');
  const call = async <T>(send: () => Promise<KubeObject>): Promise<T> => {
    try {
      return (await send()) as T;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      throw new ApiStatusError({ ...err.toStatus(), details: { ...err.details } }, err.code);
    }
  };
  return {
    get: <T extends KubeObject>(_kind: unknown, name: string, namespace?: string) =>
      call<T>(() => store.get(namespace ?? '', name)),
    create: <T extends KubeObject>(_kind: unknown, lease: T) =>
      call<T>(async () => (await store.create(lease.metadata.namespace ?? '', lease, WRITE)).object),
    update: <T extends KubeObject>(_kind: unknown, lease: T) =>
      call<T>(async () => {
        const { namespace = '', name = '' } = lease.metadata;
        return (await store.update(namespace, name, lease, WRITE)).object;
      }),
  };
}
