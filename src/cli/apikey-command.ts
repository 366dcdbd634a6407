// `gatehouse create apikey CONSUMER`: the API server mints the key and shows it in its answer
// to the create only (it keeps the hash), so this command is where a person sees it. The key
// alone goes to stdout, for scripts; what was made goes to stderr.
import { InvalidArgumentError, type Command } from 'commander';
import { tryParseDuration } from '../api/duration.ts';
import { apiKeyKind, type ApiKey } from '../api/kinds/api-key/index.ts';
import { consumerKind } from '../api/kinds/consumer/index.ts';
import { isStatusError } from '../client/errors.ts';
import { progress, run, verb, withTarget, type Target } from './target.ts';

interface ApiKeyFlags extends Target {
  name?: string;
  expires?: number;
}

/** A Go duration (`720h`) in milliseconds, positive. */
function lifetime(value: string): number {
  const ms = tryParseDuration(value);
  if (ms === undefined || ms <= 0) {
    throw new InvalidArgumentError(`"${value}" is not a positive duration such as 720h or 90m`);
  }
  return ms;
}

/** RFC 3339 in whole seconds, as Kubernetes writes times. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function registerApiKeyCommand(program: Command): void {
  const create = verb(program, 'create', 'create Gatehouse objects');
  const command = create
    .command('apikey')
    .description('mint an API key for a Consumer and print it: the only time the key is shown');
  withTarget(command)
    .argument('<consumer>', 'the Consumer the key authenticates as')
    .option('--name <name>', 'name of the ApiKey (default: the consumer name and a random suffix)')
    .option('--expires <duration>', 'lifetime of the key, e.g. 720h (default: it never expires)', lifetime)
    .action((consumer: string, flags: ApiKeyFlags) =>
      run(flags, async (client, namespace): Promise<undefined> => {
        // Checked first: an ApiKey of a missing Consumer is accepted but authenticates nobody.
        await client.get(consumerKind, consumer, namespace).catch((err: unknown) => {
          if (!isStatusError(err, 'NotFound')) throw err;
          throw new Error(`Consumer ${namespace}/${consumer} does not exist; create it first (see docs/resources.md)`);
        });
        const expires = flags.expires === undefined ? undefined : rfc3339(Date.now() + flags.expires);
        const created = await client.create<ApiKey>(apiKeyKind, {
          apiVersion: 'gatehouse.dev/v1alpha1',
          kind: 'ApiKey',
          metadata: { namespace, ...(flags.name ? { name: flags.name } : { generateName: `${consumer}-` }) },
          spec: { consumer, ...(expires ? { expires } : {}) } as ApiKey['spec'],
        });
        const key = (created.status as { key?: string } | undefined)?.key;
        const what = `ApiKey ${namespace}/${created.metadata.name}`;
        if (!key) throw new Error(`${what} was created without a key in the answer; delete it and try again`);
        process.stdout.write(`${key}\n`);
        progress(`✔ ${what} for Consumer ${consumer}${expires ? `, expires ${expires}` : ''}`);
        progress('  The key above is shown only now: the server keeps only its hash.');
      }),
    );
}
