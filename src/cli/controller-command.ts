// `gatehouse controller`: reconciles GitRepositories and Syncs of the API server the
// kubeconfig points at, and answers webhook calls of Receivers on --hook-port. Replicas elect
// one leader on a Lease (controller-runtime's --leader-elect flags and defaults); a leader that
// loses its Lease exits with status 1, as controller-runtime's managers do, for its supervisor
// to start it again as a standby.
import { type Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { tryParseDuration } from '../api/duration.ts';
import { CONTROLLER_LEADER_ELECTION as ELECTION, type LeaderElectionSettings } from '../gitops/leader-election.ts';
import type { GitOpsController } from '../gitops/manager.ts';
import { port } from './options.ts';
import { checkCredentials, COMPONENT_KUBECONFIG_HELP, componentKubeconfig } from './target.ts';

interface ControllerFlags {
  kubeconfig?: string;
  hookPort?: number;
  bind: string;
  dataDir: string;
  concurrency: number;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  leaderElectionLeaseDuration: number;
  leaderElectionRenewDeadline: number;
  leaderElectionRetryPeriod: number;
}

function duration(value: string): number {
  const ms = tryParseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError(`"${value}" is not a positive duration such as "15s"`);
  return ms;
}

function bool(value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new InvalidArgumentError(`"${value}" is not true or false`);
  return value === 'true';
}

/** client-go's checks of the three durations: a holder must give up before its lease expires, and try more
 * than once before it gives up. */
export function leaderElection(flags: ControllerFlags): LeaderElectionSettings | undefined {
  if (!flags.leaderElect) return undefined;
  const settings = {
    namespace: flags.leaderElectionNamespace,
    name: ELECTION.name,
    leaseDurationMs: flags.leaderElectionLeaseDuration,
    renewDeadlineMs: flags.leaderElectionRenewDeadline,
    retryPeriodMs: flags.leaderElectionRetryPeriod,
  };
  if (settings.renewDeadlineMs >= settings.leaseDurationMs)
    throw new InvalidArgumentError('--leader-election-renew-deadline must be shorter than the lease duration');
  if (settings.retryPeriodMs >= settings.renewDeadlineMs)
    throw new InvalidArgumentError('--leader-election-retry-period must be shorter than the renew deadline');
  return settings;
}

export function registerControllerCommand(program: Command): void {
  program
    .command('controller')
    .description('reconcile GitRepositories and Syncs: fetch from Git, apply what drifted, prune what left Git')
    .option('--kubeconfig <file>', COMPONENT_KUBECONFIG_HELP)
    .option('--hook-port <port>', 'port of the webhook listener for Receivers (none when absent)', port)
    .option('--bind <addr>', 'address the webhook listener binds to', '127.0.0.1')
    .option('--data-dir <dir>', 'where artifacts and Git caches are kept', '.gatehouse/controller')
    .option('--concurrency <n>', 'reconciles at once per kind', (v) => Number.parseInt(v, 10), 4)
    .option('--leader-elect [bool]', 'reconcile only while holding the controller Lease (replicas)', bool, true)
    .option('--leader-election-namespace <ns>', "namespace of the Lease (default: the Pod's, or the kubeconfig's)")
    .option(
      '--leader-election-lease-duration <d>',
      'how long a Lease holds without renewal',
      duration,
      ELECTION.leaseDurationMs,
    )
    .option(
      '--leader-election-renew-deadline <d>',
      'how long the leader tries to renew before it exits',
      duration,
      ELECTION.renewDeadlineMs,
    )
    .option(
      '--leader-election-retry-period <d>',
      'how often the Lease is renewed or tried for',
      duration,
      ELECTION.retryPeriodMs,
    )
    .action(async (flags: ControllerFlags) => {
      const [{ startController }, { logger, stopOnSignals }] = await Promise.all([
        import('../gitops/manager.ts'),
        import('./process.ts'),
      ]);
      const kubeconfig = await componentKubeconfig(flags.kubeconfig);
      await checkCredentials(kubeconfig);
      let controller: GitOpsController | undefined;
      controller = await startController({
        leaderElection: leaderElection(flags),
        onLostLeadership: () => {
          void controller?.close().finally(() => process.exit(1));
        },
        kubeconfig,
        dataDir: resolve(flags.dataDir),
        hookPort: flags.hookPort,
        host: flags.bind,
        concurrency: flags.concurrency,
        logger,
      });
      const running = controller;
      logger.info({ hookUrl: running.hookUrl, identity: running.identity }, 'controller running');
      stopOnSignals([() => running.close()]);
    });
}
