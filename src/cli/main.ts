// The `gatehouse` command: its commands and their options. Each command imports its implementation in its action,
// when it runs, so `gatehouse --help` and a client command load none of the servers (serve.ts wires those).
import { Command } from 'commander';
import { GATEHOUSE_VERSION } from '../api/version.ts';
import { registerApiKeyCommand } from './apikey-command.ts';
import { apiServerMode } from './apiserver-mode.ts';
import { AUDIT_LOG_FILE, registerAuditCommand, withAuditFlags } from './audit-command.ts';
import { addAuthenticationOptions } from './authentication-options.ts';
import { addDelegationOptions } from './delegation-options.ts';
import { registerControllerCommand } from './controller-command.ts';
import { registerGatewayCommand } from './gateway-command.ts';
import { registerGitOpsCommands } from './gitops-command.ts';
import { registerHistoryCommand } from './history-command.ts';
import { registerInstallCommand } from './install-command.ts';
import { port, positive } from './options.ts';

const API_HISTORY_LIMIT = [
  '--api-history-limit <n>',
  'generations kept in each ApiDefinition history',
  positive,
  50,
] as const;

function names(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  ];
}

const program = new Command('gatehouse')
  .description('GitOps-native API management for Kubernetes')
  .version(GATEHOUSE_VERSION);

withAuditFlags(
  addDelegationOptions(
    addAuthenticationOptions(program.command('apiserver').description('serve the Gatehouse Kubernetes-compatible API')),
  ),
)
  .option(
    '--mode <mode>',
    'standalone | aggregated (behind kube-apiserver, serving only gatehouse.dev)',
    apiServerMode,
    'standalone',
  )
  .option('--kubeconfig <file>', "aggregated: the cluster's API (default: the in-cluster configuration)")
  .option('--storage <spec>', 'memory | pglite[:DIR] | postgres://URL', 'pglite')
  .option('--data-dir <dir>', 'where embedded storage keeps its files', '.gatehouse')
  .option('--bind <addr>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on', port, 6443)
  .option(
    '--token-file <file>',
    'static bearer tokens (token,user,uid,"groups"); without it every request is an administrator',
  )
  .option('--tls-cert-file <file>', 'PEM serving certificate (default: self-signed, kept in the data dir)')
  .option('--tls-private-key-file <file>', 'PEM key of --tls-cert-file')
  .option(
    '--tls-san <names>',
    "more DNS names and IPs of the serving certificate (a load balancer's); repeatable",
    names,
  )
  .option(...API_HISTORY_LIMIT)
  .action(async (opts) => (await import('./serve.ts')).serveApi(opts));

withAuditFlags(
  program
    .command('up')
    .description('start Gatehouse on one machine: API server on embedded storage, with a kubeconfig'),
  `DATA_DIR/${AUDIT_LOG_FILE}`,
)
  .option('--data-dir <dir>', 'where Gatehouse keeps its data, token and kubeconfig', '.gatehouse')
  .option('--storage <spec>', 'memory | pglite[:DIR] | postgres://URL (default: pglite under the data dir)')
  .option('--bind <addr>', 'address to listen on', '127.0.0.1')
  .option('--api-port <port>', 'API server port', port, 6443)
  .option('--gateway-port <port>', 'gateway public port', port, 8080)
  .option('--gateway-internal-port <port>', 'gateway internal port: internal APIs, /metrics, /healthz', port, 8081)
  .option('--hook-port <port>', 'controller webhook listener port (Receivers)', port, 9292)
  .option('--demo', 'also serve examples/ from a local Git repository, with an example upstream')
  .option('--demo-upstream-port <port>', 'port of the example upstream of --demo', port, 9090)
  .option(...API_HISTORY_LIMIT)
  .action(async (opts) => (await import('./serve.ts')).up(opts));

registerGatewayCommand(program);
registerControllerCommand(program);
registerGitOpsCommands(program);
registerHistoryCommand(program);
registerApiKeyCommand(program);
registerAuditCommand(program);
registerInstallCommand(program);

// The command being run, so a failure can name the flag behind it.
let running: Command | undefined;
program.hook('preAction', (_program, command) => {
  running = command;
});

program.parseAsync(process.argv).catch(async (err: unknown) => {
  // A failure to start is the user's to fix (bad flag, port in use, unreachable database):
  // one readable line, the stack only at debug level.
  const [{ logger }, { CommandFailure, explainFailure }] = await Promise.all([
    import('./process.ts'),
    import('./failure.ts'),
  ]);
  logger.debug({ err }, 'start failed');
  process.stderr.write(`gatehouse: ${explainFailure(err, { command: running })}\n`);
  process.exit(err instanceof CommandFailure ? err.exitCode : 1);
});
