// One elected holder among several replicas, with a coordination.k8s.io/v1 Lease (client-go's
// leaderelection contract). Expiry is judged by when this replica last saw the lease record
// change, on its own clock, never by comparing another replica's timestamps with ours: the
// machines' clocks need not agree. Writes carry the resourceVersion read, so two candidates
// racing for an expired lease cannot both win.
import { leaseKind, type Lease } from '../api/core/lease/index.ts';
import { isStatusError } from './errors.ts';
import type { KubeClient } from './rest.ts';

/** The calls the elector makes: a KubeClient's, or the same answered in-process as the Kubernetes API
 * answers them (failures thrown as ApiStatusError), as the API server does for its own replicas. */
export type LeaseClient = Pick<KubeClient, 'get' | 'create' | 'update'>;

export interface LeaderElectionOptions {
  client: LeaseClient;
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease holds without renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** How long a holder goes on trying to renew before it stops leading, shorter than the lease duration so it
   * stops before another replica may take over. Default 10 s (client-go's RenewDeadline), and at most two thirds
   * of the lease duration (client-go's 10 s of 15 s), so a shorter lease keeps that margin. */
  renewDeadlineMs?: number;
  /** How often the holder renews and candidates retry. Default 2 s. */
  retryPeriodMs?: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  onError?(err: unknown): void;
}

export class LeaderElector {
  private leading = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** The attempt under way, which stop() waits for so a late write cannot re-elect a stopped replica. */
  private inflight: Promise<void> = Promise.resolve();
  /** The record last seen and when this replica saw it change. */
  private observed?: { record: string; at: number };
  private lastRenewed = 0;
  /** Ends the leadership when no renewal succeeds within the renew deadline, even while an attempt still hangs. */
  private deadline?: NodeJS.Timeout;
  private readonly durationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(private readonly options: LeaderElectionOptions) {
    this.durationMs = options.leaseDurationMs ?? 15_000;
    // With the deadline equal to the lease, another replica that saw the last renewal before the holder heard
    // it was written could take the lease over while the holder still leads.
    this.renewDeadlineMs = Math.min(
      options.renewDeadlineMs ?? Math.min(10_000, (this.durationMs * 2) / 3),
      this.durationMs,
    );
    this.retryMs = options.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const tick = () => {
      this.inflight = this.attempt()
        .catch((err: unknown) => this.options.onError?.(err))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.retryMs).unref();
        });
    };
    tick();
  }

  /** Stops campaigning; a holder gives the lease up so another replica need not wait for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    await this.inflight;
    this.setLeading(false);
    if (this.lastRenewed === 0) return;
    try {
      const lease = await this.options.client.get<Lease>(leaseKind, this.options.name, this.options.namespace);
      if (lease.spec?.holderIdentity === this.options.identity) {
        await this.options.client.update(leaseKind, {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 },
        });
      }
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  private async attempt(): Promise<void> {
    const { client, namespace, name, identity } = this.options;
    const now = new Date();
    const mine = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
      renewTime: now.toISOString(),
    };
    let lease: Lease;
    try {
      lease = await client.get<Lease>(leaseKind, name, namespace);
    } catch (err) {
      if (!isStatusError(err, 'NotFound')) throw err;
      await this.write(() =>
        client.create(leaseKind, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { ...mine, acquireTime: now.toISOString(), leaseTransitions: 0 },
        }),
      );
      return;
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify(spec);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const held = spec.holderIdentity === identity;
    const expired = !spec.holderIdentity || Date.now() - this.observed.at > (spec.leaseDurationSeconds ?? 0) * 1000;
    if (!held && !expired) {
      this.setLeading(false);
      return;
    }
    const next = held
      ? { ...spec, ...mine }
      : { ...mine, acquireTime: now.toISOString(), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    await this.write(() => client.update(leaseKind, { ...lease, spec: next }));
  }

  private async write(send: () => Promise<Lease>): Promise<void> {
    try {
      const written = await send();
      this.observed = { record: JSON.stringify(written.spec ?? {}), at: Date.now() };
      this.lastRenewed = Date.now();
      clearTimeout(this.deadline);
      // A holder that could not renew within the deadline must assume another replica takes over.
      this.deadline = setTimeout(() => this.setLeading(false), this.renewDeadlineMs).unref();
      if (!this.stopped) this.setLeading(true);
    } catch (err) {
      // Another replica wrote first: it holds the lease now.
      if (isStatusError(err, 'Conflict', 'AlreadyExists')) return this.setLeading(false);
      throw err;
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }
}
