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

/** The Lease the controller replicas elect their leader on, unless configured otherwise. Shorter than
 * controller-runtime's 15 s / 10 s: a standby waits out the dead leader's lease before its first reconcile, and
 * a push must be live within 15 s of a leader's SIGKILL (docs/benchmarks.md); the retry period is kube's. */
export const CONTROLLER_LEADER_ELECTION: LeaderElectionSettings = {
  name: 'gatehouse-controller',
  leaseDurationMs: 10_000,
  renewDeadlineMs: 7_000,
  retryPeriodMs: 2_000,
};
