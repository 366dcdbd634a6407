// What every command that talks to an API server shares: the --kubeconfig and --namespace
// flags, a client for them, and failures turned into one line naming the kubeconfig or
// server at fault. Progress goes to stderr, so stdout holds only what a command prints.
import type { Command } from 'commander';
import { delimiter, resolve } from 'node:path';
import type { InClusterEnvironment } from '../client/in-cluster.ts';
import type { KubeClient } from '../client/rest.ts';
import { defaultKubeconfig } from './options.ts';

/** The client and its failures, imported when a command runs: declaring the options must stay cheap. */
const clientSide = async () => {
  const [client, config, inCluster, failure] = await Promise.all([
    import('../client/rest.ts'),
    import('../client/kubeconfig.ts'),
    import('../client/in-cluster.ts'),
    import('./failure.ts'),
  ]);
  return { ...client, ...config, ...inCluster, ...failure };
};

export interface Target {
  kubeconfig: string;
  namespace?: string;
}

/** Adds the kubeconfig flag (KUBECONFIG, then the one `gatehouse up` writes) and -n. */
export function withTarget(command: Command): Command {
  return command
    .option('--kubeconfig <file>', 'kubeconfig of the API server ($KUBECONFIG when set)', defaultKubeconfig())
    .option('-n, --namespace <ns>', "namespace (default: the kubeconfig context's)");
}

/** Runs `body` with a client and closes it; a number it returns is the exit code, and a
 * failure exits with `failureExitCode` (kubectl diff's convention needs 2, not 1). */
export async function run(
  target: Target,
  body: (client: KubeClient, namespace: string) => Promise<number | undefined>,
  failureExitCode = 1,
): Promise<void> {
  const { loadKubeconfig, KubeClient, explainFailure, CommandFailure } = await clientSide();
  const config = await loadKubeconfig(target.kubeconfig);
  const client = new KubeClient(config);
  try {
    const code = await body(client, target.namespace ?? config.namespace);
    if (code) process.exitCode = code;
  } catch (err) {
    const message = explainFailure(err, { kubeconfig: target.kubeconfig, server: config.server });
    throw new CommandFailure(message, failureExitCode, { cause: err });
  } finally {
    await client.close();
  }
}

export const COMPONENT_KUBECONFIG_HELP =
  'kubeconfig of the API server ($KUBECONFIG when set; in a Pod, the in-cluster configuration; else the one of up)';

/** The kubeconfig of a long-running component (gateway, controller): --kubeconfig, else $KUBECONFIG's
 * first file, else none in a Pod (undefined: the in-cluster configuration, as client-go's components),
 * else the one `gatehouse up` writes. */
export async function componentKubeconfig(
  flag: string | undefined,
  environment: InClusterEnvironment = {},
): Promise<string | undefined> {
  const env = environment.env ?? process.env;
  if (flag !== undefined) return resolve(flag);
  if (env.KUBECONFIG?.split(delimiter).some(Boolean)) return resolve(defaultKubeconfig(env));
  const { inCluster } = await clientSide();
  return (await inCluster(environment)) ? undefined : resolve(defaultKubeconfig(env));
}

/** Fails at once, naming the kubeconfig, when the API server refuses its credentials (401):
 * a long-running component would otherwise retry a wrong token for ever. An unreachable
 * server, or a refusal of one verb (403), is left to the component, which waits and
 * retries. */
export async function checkCredentials(kubeconfig: string | undefined): Promise<void> {
  const { loadClientConfig, KubeClient, explainFailure, CommandFailure } = await clientSide();
  const [{ namespaceKind }, { isStatusError }] = await Promise.all([
    import('../api/core/namespace/index.ts'),
    import('../client/errors.ts'),
  ]);
  const config = await loadClientConfig(kubeconfig);
  const client = new KubeClient(config);
  try {
    await client.list(namespaceKind, { limit: 1 });
  } catch (err) {
    if (!isStatusError(err, 'Unauthorized')) return;
    throw new CommandFailure(explainFailure(err, { kubeconfig, server: config.server }), 1, { cause: err });
  } finally {
    await client.close();
  }
}

export const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** The subcommand `name` of `parent` (`create`, `get`), made on first use, so that several
 * modules can add their kinds to one verb. */
export function verb(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}
