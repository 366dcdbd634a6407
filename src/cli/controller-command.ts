// `gatehouse controller`: reconciles GitRepositories and Syncs of the API server the
// kubeconfig points at, and answers webhook calls of Receivers on --hook-port.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { startController } from '../gitops/manager.ts';
import { defaultKubeconfig, logger, port, stopOnSignals } from './process.ts';
import { checkCredentials } from './target.ts';

interface ControllerFlags {
  kubeconfig: string;
  hookPort?: number;
  bind: string;
  dataDir: string;
  concurrency: number;
}

export function registerControllerCommand(program: Command): void {
  program
    .command('controller')
    .description('reconcile GitRepositories and Syncs: fetch from Git, apply what drifted, prune what left Git')
    .option('--kubeconfig <file>', 'kubeconfig of the API server ($KUBECONFIG when set)', defaultKubeconfig())
    .option('--hook-port <port>', 'port of the webhook listener for Receivers (none when absent)', port)
    .option('--bind <addr>', 'address the webhook listener binds to', '127.0.0.1')
    .option('--data-dir <dir>', 'where artifacts and Git caches are kept', '.gatehouse/controller')
    .option('--concurrency <n>', 'reconciles at once per kind', (v) => Number.parseInt(v, 10), 4)
    .action(async (flags: ControllerFlags) => {
      await checkCredentials(resolve(flags.kubeconfig));
      const controller = await startController({
        kubeconfig: resolve(flags.kubeconfig),
        dataDir: resolve(flags.dataDir),
        hookPort: flags.hookPort,
        host: flags.bind,
        concurrency: flags.concurrency,
        logger,
      });
      logger.info({ hookUrl: controller.hookUrl }, 'controller running');
      stopOnSignals([() => controller.close()]);
    });
}
