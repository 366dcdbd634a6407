// The controller's leader election settings, apart from the controller so that the CLI can declare their flags
// and defaults without loading it.

/** controller-runtime's leader election options: the holder renews every retry period, steps down when no
 * renewal succeeded within the renew deadline, and a standby takes over once the lease duration passed
 * without a renewal (or at once when the holder released the Lease on a clean stop). */
export interface LeaderElectionSettings {
  /** Absent: the client configuration's namespace (the Pod's in a cluster, else the kubeconfig context's, else
   * `default`), as controller-runtime defaults it. */
  namespace?: string;
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** The Lease the controller replicas elect their leader on and controller-runtime's timings, unless configured
 * otherwise. */
export const CONTROLLER_LEADER_ELECTION: LeaderElectionSettings = {
  name: 'gatehouse-controller',
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};
