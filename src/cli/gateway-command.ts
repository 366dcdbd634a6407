// `gatehouse gateway`: serves the APIs declared in the API server the kubeconfig points at,
// from this process or (--workers N) from N worker processes on the same ports.
import { type Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { parseAccessLogMode, type AccessLogOptions } from '../gateway/access-log.ts';
import { MEBIBYTE } from '../log/log-file.ts';
import { count, port } from './options.ts';
import { checkCredentials, COMPONENT_KUBECONFIG_HELP, componentKubeconfig } from './target.ts';
import { isWorker, startWorkers, workerReady } from './workers.ts';

interface GatewayFlags {
  kubeconfig?: string;
  port: number;
  internalPort: number;
  bind: string;
  namespace?: string;
  selector?: string;
  dataDir: string;
  workers: number;
  accessLog: string;
  accessLogPath?: string;
  accessLogMaxsize: number;
  accessLogMaxbackup: number;
}

/** The access log the flags ask for; a file is written by one process only, not by --workers. */
function accessLogOptions(flags: GatewayFlags): AccessLogOptions {
  let mode: AccessLogOptions['mode'];
  try {
    mode = parseAccessLogMode(flags.accessLog);
  } catch (err) {
    throw new InvalidArgumentError(`--access-log: ${(err as Error).message}`);
  }
  if (!flags.accessLogPath) return { mode };
  if (flags.workers > 1)
    throw new InvalidArgumentError('--access-log-path: one file per process; with --workers, log to stdout');
  const path = resolve(flags.accessLogPath);
  return { mode, file: { path, maxBytes: flags.accessLogMaxsize * MEBIBYTE, maxBackups: flags.accessLogMaxbackup } };
}

function workerCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError(`"${value}" is not a number of workers (1-256)`);
  return n;
}

export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .description('serve the APIs declared as ApiDefinitions, watched through the Kubernetes API')
    .option('--kubeconfig <file>', COMPONENT_KUBECONFIG_HELP)
    .option('--port <port>', 'public listener port', port, 8080)
    .option('--internal-port <port>', 'internal listener port: internal APIs, /metrics, /healthz', port, 8081)
    .option('--bind <addr>', 'address both listeners bind to', '127.0.0.1')
    .option('--namespace <ns>', 'serve only this namespace (default: all namespaces)')
    .option('--selector <labels>', 'serve only ApiDefinitions matching this label selector')
    .option('--data-dir <dir>', 'where the last good config is kept', '.gatehouse/gateway')
    .option(
      '--workers <n>',
      'gateway processes serving the same ports (node:cluster), sharing limits through the API server',
      workerCount,
      1,
    )
    .option(
      '--access-log <mode>',
      'which requests get an access log line: off, all, or sampled[:RATE] (every 5xx and RATE of the others)',
      'sampled:0.01',
    )
    .option('--access-log-path <file>', 'write the access log to this file, rotated by size (default: stdout)')
    .option(
      '--access-log-maxsize <MB>',
      'size at which the access log file is rotated, in megabytes (0: 100)',
      count,
      100,
    )
    .option('--access-log-maxbackup <n>', 'rotated access log files kept (0: all)', count, 5)
    .action(async (flags: GatewayFlags) => {
      const [{ startGateway }, { logger, stopOnSignals }] = await Promise.all([
        import('../gateway/server.ts'),
        import('./process.ts'),
      ]);
      if (flags.namespace && flags.selector)
        throw new InvalidArgumentError('--namespace and --selector are alternatives; give one');
      const accessLog = accessLogOptions(flags);
      const kubeconfig = await componentKubeconfig(flags.kubeconfig);
      await checkCredentials(kubeconfig);
      if (flags.workers > 1 && !isWorker()) {
        const { pool, details } = await startWorkers(flags.workers, logger);
        logger.info({ ...details, workers: pool.pids() }, 'gateway listening');
        stopOnSignals([() => pool.stop()]);
        return;
      }
      const gateway = await startGateway({
        kubeconfig,
        port: flags.port,
        internalPort: flags.internalPort,
        host: flags.bind,
        namespace: flags.namespace,
        selector: flags.selector,
        dataDir: resolve(flags.dataDir),
        logger,
        accessLog,
      });
      logger.info(
        { url: gateway.url, internalUrl: gateway.internalUrl },
        isWorker() ? 'gateway worker listening' : 'gateway listening',
      );
      stopOnSignals([() => gateway.close()]);
      if (isWorker()) workerReady({ url: gateway.url, internalUrl: gateway.internalUrl });
    });
}
