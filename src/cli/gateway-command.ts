// `gatehouse gateway`: serves the APIs declared in the API server the kubeconfig points at.
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { startGateway } from '../gateway/server.ts';
import { logger, port, stopOnSignals } from './process.ts';

interface GatewayFlags {
  kubeconfig: string;
  port: number;
  internalPort: number;
  bind: string;
  namespace?: string;
  selector?: string;
  dataDir: string;
}

export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .description('serve the APIs declared as ApiDefinitions, watched through the Kubernetes API')
    .requiredOption('--kubeconfig <file>', 'kubeconfig of the API server to watch')
    .option('--port <port>', 'public listener port', port, 8080)
    .option('--internal-port <port>', 'internal listener port: internal APIs, /metrics, /healthz', port, 8081)
    .option('--bind <addr>', 'address both listeners bind to', '127.0.0.1')
    .option('--namespace <ns>', 'serve only this namespace (default: all namespaces)')
    .option('--selector <labels>', 'serve only ApiDefinitions matching this label selector')
    .option('--data-dir <dir>', 'where the last good config is kept', '.gatehouse/gateway')
    .action(async (flags: GatewayFlags) => {
      if (flags.namespace && flags.selector) throw new InvalidArgumentError('--namespace and --selector are alternatives; give one');
      const gateway = await startGateway({
        kubeconfig: resolve(flags.kubeconfig),
        port: flags.port,
        internalPort: flags.internalPort,
        host: flags.bind,
        namespace: flags.namespace,
        selector: flags.selector,
        dataDir: resolve(flags.dataDir),
        logger,
      });
      logger.info({ url: gateway.url, internalUrl: gateway.internalUrl }, 'gateway listening');
      stopOnSignals([() => gateway.close()]);
    });
}
