// The GitOps commands: read sources and syncs, reconcile now, suspend and resume, roll back, diff,
// make a Git credentials Secret, and bootstrap a repository in one go. They talk to the API
// server only (reconcile, diff, rollback and resume are subresources the controller answers through it).
import { type Command, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import type { KindDefinition, KubeObject } from '../api/kind.ts';
import { findCondition, type CommonStatus } from '../api/status.ts';
import { alertKind } from '../api/kinds/alert/index.ts';
import { gitRepositoryKind, type GitRepository } from '../api/kinds/git-repository/index.ts';
import { providerKind } from '../api/kinds/provider/index.ts';
import { syncKind, type Sync } from '../api/kinds/sync/index.ts';
import { namespaceKind } from '../api/core/namespace/index.ts';
import { secretKind } from '../api/core/secret/index.ts';
import { isStatusError } from '../client/errors.ts';
import type { KubeClient } from '../client/rest.ts';
import { describeObject } from '../gitops/sync/manifest.ts';
import type { DiffAgainstFlags } from './diff-against.ts';
import { formatObjects, parseOutput, showValue, table, type OutputFormat } from './print.ts';
import { progress, run, verb, withTarget, type Target } from './target.ts';

const kinds: Record<string, KindDefinition> = {
  source: gitRepositoryKind,
  sources: gitRepositoryKind,
  sync: syncKind,
  syncs: syncKind,
};

function kindArg(value: string, allowed: string[]): KindDefinition {
  if (!allowed.includes(value)) throw new Error(`unknown kind "${value}": expected ${allowed.join(' or ')}`);
  return kinds[value];
}

function ready(obj: KubeObject): { ok: boolean; message: string } {
  const cond = findCondition(obj.status as CommonStatus | undefined, 'Ready');
  return { ok: cond?.status === 'True', message: cond?.message ?? 'no Ready condition yet' };
}

export function registerGitOpsCommands(program: Command): void {
  const get = verb(program, 'get', 'list Gatehouse objects');
  for (const [command, alias, def, what] of [
    ['sources', 'source', gitRepositoryKind, 'GitRepositories'],
    ['syncs', 'sync', syncKind, 'Syncs'],
    ['providers', 'provider', providerKind, 'notification Providers'],
    ['alerts', 'alert', alertKind, 'notification Alerts'],
  ] as const) {
    withTarget(get.command(command).alias(alias).description(`list ${what}`))
      .option('-A, --all-namespaces', 'across all namespaces')
      .addOption(
        new Option('-o, --output <format>', 'table, wide, yaml or json').default('table').argParser(parseOutput),
      )
      .argument('[name]', `one ${def.kind}`)
      .action((name: string | undefined, flags: Target & { allNamespaces?: boolean; output: OutputFormat }) =>
        list(def, name, flags),
      );
  }

  withTarget(program.command('reconcile').description('fetch and apply now, instead of at the next interval'))
    .argument('<kind>', 'source or sync')
    .argument('<name>')
    .option('--with-source', 'for a sync: fetch its GitRepository first')
    .action((kind: string, name: string, flags: Target & { withSource?: boolean }) =>
      run(flags, async (client, namespace) => {
        const def = kindArg(kind, ['source', 'sync']);
        progress(
          `► reconciling ${def.kind} ${namespace}/${name}${flags.withSource && def === syncKind ? ' with its source' : ''}`,
        );
        const obj = await client.subresource<KubeObject>(def, name, 'reconcile', namespace, {
          withSource: Boolean(flags.withSource),
        });
        const state = ready(obj);
        const revision =
          def === syncKind
            ? (obj as Sync).status?.lastAppliedRevision
            : (obj as GitRepository).status?.artifact?.revision;
        progress(state.ok ? `✔ ${state.message}${revision ? ` (revision ${revision})` : ''}` : `✗ ${state.message}`);
        return state.ok ? 0 : 1;
      }),
    );

  for (const [verb, suspend] of [
    ['suspend', true],
    ['resume', false],
  ] as const) {
    withTarget(
      program
        .command(verb)
        .description(
          suspend
            ? 'stop applying a Sync (hand edits are then left alone)'
            : "apply a suspended Sync again, or end its rollback: its source's revision applies",
        ),
    )
      .argument('<kind>', 'sync')
      .argument('<name>')
      .action((kind: string, name: string, flags: Target) =>
        run(flags, async (client, namespace): Promise<undefined> => {
          kindArg(kind, ['sync']);
          await client.patch(syncKind, name, { spec: { suspend } }, 'merge', namespace);
          progress(`✔ Sync ${namespace}/${name} ${suspend ? 'suspended' : 'resumed'}`);
          if (!suspend) await client.subresource(syncKind, name, 'resume', namespace, {});
        }),
      );
  }

  withTarget(
    program
      .command('rollback')
      .description("re-apply an earlier revision of a Sync's history and hold it there until a newer one or resume"),
  )
    .argument('<kind>', 'sync')
    .argument('<name>')
    .option('--to <revision>', 'a revision of its status.history, e.g. main@sha1:…')
    .option('--steps <n>', 'how many revisions back from the one applied now (default 1)', Number)
    .option('--reason <text>', 'why, recorded in status.rolledBackTo')
    .action((kind: string, name: string, flags: Target & { to?: string; steps?: number; reason?: string }) =>
      run(flags, async (client, namespace) => {
        kindArg(kind, ['sync']);
        const body = {
          ...(flags.to === undefined && flags.steps === undefined ? { steps: 1 } : {}),
          ...(flags.to !== undefined ? { revision: flags.to } : {}),
          ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
          ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
        };
        progress(`► rolling back Sync ${namespace}/${name}`);
        const sync = await client.subresource<Sync>(syncKind, name, 'rollback', namespace, body);
        const state = ready(sync);
        progress(state.ok ? `✔ ${state.message}` : `✗ ${state.message}`);
        return state.ok ? 0 : 1;
      }),
    );

  const diffCommand = program
    .command('diff')
    .description(
      'what the next apply of a Sync would change, or with --against what differs between the live objects of ' +
        'two Syncs; exits 0 when nothing, 1 when something, 2 on error',
    );
  withTarget(diffCommand)
    .argument('<kind>', 'sync')
    .argument('<name>')
    .option('--against <sync>', "another Sync (another environment's): compare the two Syncs' live objects")
    .option('--against-namespace <ns>', "namespace of the --against Sync (default: the first Sync's)")
    .option('--against-kubeconfig <file>', 'kubeconfig of the API server of the --against Sync (default: the same)')
    .option(
      '--map-namespace <from=to>',
      "match the first Sync's objects in namespace FROM with the other's in TO; repeatable " +
        "(default: the Syncs' spec.targetNamespace, else their own namespaces)",
      (pair: string, previous: string[]) => [...previous, pair],
      [],
    )
    .addOption(new Option('-o, --output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .action((kind: string, name: string, flags: Target & Omit<DiffAgainstFlags, 'against'> & { against?: string }) =>
      run(
        flags,
        async (client, namespace) => {
          kindArg(kind, ['sync']);
          const { against } = flags;
          if (against)
            return (await import('./diff-against.ts')).diffAgainst(client, namespace, name, { ...flags, against });
          if (flags.againstNamespace || flags.againstKubeconfig || flags.mapNamespace.length) {
            throw new Error('--against-namespace, --against-kubeconfig and --map-namespace compare with --against');
          }
          const diff = await client.subresource<SyncDiff>(syncKind, name, 'diff', namespace);
          const changed = diff.objects.filter((o) => o.action !== 'unchanged');
          process.stdout.write(flags.output === 'json' ? `${JSON.stringify(diff, null, 2)}\n` : renderDiff(diff));
          return changed.length ? 1 : 0;
        },
        2,
      ),
    );

  const create = verb(program, 'create', 'create Gatehouse objects');
  const secret = create.command('secret').description('create a Secret');
  withTarget(secret.command('git').description('create or replace a Secret with Git credentials'))
    .argument('<name>')
    .requiredOption('--url <url>', 'repository URL the credentials are for')
    .option('--private-key-file <file>', 'ssh: private key')
    .option(
      '--known-hosts-file <file>',
      'ssh: known_hosts lines for the host (without it the host key is scanned and must be confirmed)',
    )
    .option('--host-key-fingerprint <fp>', 'ssh: confirm a scanned host key non-interactively (SHA256:...)')
    .option('--username <user>', 'https: user name')
    .option('--password <password>', 'https: password (or set GIT_PASSWORD)')
    .option('--bearer-token <token>', 'https: bearer token (or set GIT_BEARER_TOKEN)')
    .option('--ca-file <file>', 'https: CA certificate of a private CA')
    .option('--export', 'print the Secret as YAML instead of creating it')
    .action((name: string, flags: Target & GitSecretFlags) =>
      run(flags, async (client, namespace): Promise<undefined> => {
        const obj = await gitSecret(name, namespace, flags);
        if (flags.export) {
          process.stdout.write(formatObjects(secretKind, [obj], 'yaml', false));
          return;
        }
        await upsert(client, secretKind, obj);
        progress(
          `✔ Secret ${namespace}/${name} stored (${Object.keys(obj.stringData as object)
            .sort()
            .join(', ')})`,
        );
      }),
    );

  withTarget(
    program
      .command('bootstrap')
      .description(
        'point Gatehouse at a Git repository: credentials Secret, GitRepository and Sync in one go, then wait for the first apply',
      ),
  )
    .requiredOption('--url <url>', 'repository URL')
    .requiredOption('--path <path>', 'directory in the repository whose manifests are applied')
    .option('--branch <branch>', 'branch to follow', 'main')
    .option('--name <name>', 'name of the GitRepository, Sync and Secret', 'gatehouse')
    .option('--interval <duration>', 'how often to poll and check for drift', '1m')
    .option('--prune', 'delete objects removed from Git', true)
    .option('--no-prune', 'keep objects removed from Git')
    .option('--private-key-file <file>', 'ssh: private key')
    .option('--known-hosts-file <file>', 'ssh: known_hosts lines for the host')
    .option('--host-key-fingerprint <fp>', 'ssh: confirm a scanned host key non-interactively (SHA256:...)')
    .option('--username <user>', 'https: user name')
    .option('--password <password>', 'https: password (or set GIT_PASSWORD)')
    .option('--bearer-token <token>', 'https: bearer token (or set GIT_BEARER_TOKEN)')
    .option('--ca-file <file>', 'https: CA certificate of a private CA')
    .action(
      (
        flags: Target &
          GitSecretFlags & { path: string; branch: string; name: string; interval: string; prune: boolean },
      ) =>
        run(flags, async (client, namespace) => {
          await upsert(client, namespaceKind, {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: namespace },
          }).catch((err: unknown) => {
            if (!isStatusError(err, 'Forbidden')) throw err;
          });
          const needsSecret =
            !flags.url.startsWith('file://') &&
            Boolean(flags.privateKeyFile || flags.username || flags.bearerToken || flags.caFile || isSsh(flags.url));
          // What this run wrote, so that a failure says what it left and how to remove it. They
          // are left, not deleted: the controller keeps retrying them, and a second bootstrap
          // with corrected flags replaces them.
          const written: string[] = [];
          const leftBehind = () =>
            progress(
              `  left in place: ${written.join(', ')} in namespace ${namespace}; fix the cause and run bootstrap again, ` +
                `or remove them: kubectl delete -n ${namespace} ${[...written].reverse().join(' ')}`,
            );
          try {
            if (needsSecret) {
              progress(`► storing credentials in Secret ${namespace}/${flags.name}`);
              await upsert(client, secretKind, await gitSecret(flags.name, namespace, flags));
              written.push(`secret/${flags.name}`);
            }
            progress(`► GitRepository ${namespace}/${flags.name} → ${flags.url} (${flags.branch})`);
            await upsert(client, gitRepositoryKind, {
              apiVersion: 'gatehouse.dev/v1alpha1',
              kind: 'GitRepository',
              metadata: { name: flags.name, namespace },
              spec: {
                url: flags.url,
                ref: { branch: flags.branch },
                interval: flags.interval,
                ...(needsSecret ? { secretRef: { name: flags.name } } : {}),
              },
            });
            written.push(`gitrepository/${flags.name}`);
            progress(`► Sync ${namespace}/${flags.name} applies ${flags.path}${flags.prune ? ' (prune on)' : ''}`);
            await upsert(client, syncKind, {
              apiVersion: 'gatehouse.dev/v1alpha1',
              kind: 'Sync',
              metadata: { name: flags.name, namespace },
              spec: {
                sourceRef: { kind: 'GitRepository', name: flags.name },
                path: flags.path,
                interval: flags.interval,
                prune: flags.prune,
              },
            });
            written.push(`sync/${flags.name}`);
            progress('► waiting for the first fetch and apply');
            const body = { withSource: true };
            const sync = await client.subresource<Sync>(syncKind, flags.name, 'reconcile', namespace, body);
            const state = ready(sync);
            if (state.ok) {
              progress(`✔ ${state.message} (revision ${sync.status?.lastAppliedRevision ?? '?'})`);
              return 0;
            }
            progress(`✗ ${state.message}`);
          } catch (err) {
            if (written.length) leftBehind();
            throw err;
          }
          leftBehind();
          return 1;
        }),
    );
}

async function list(
  def: KindDefinition,
  name: string | undefined,
  flags: Target & { allNamespaces?: boolean; output: OutputFormat },
): Promise<void> {
  await run(flags, async (client, namespace): Promise<undefined> => {
    const objects = name
      ? [await client.get<KubeObject>(def, name, namespace)]
      : (await client.list<KubeObject>(def, { namespace: flags.allNamespaces ? undefined : namespace })).items;
    if (!objects.length && (flags.output === 'table' || flags.output === 'wide')) {
      progress(`No ${def.plural} found${flags.allNamespaces ? '' : ` in namespace ${namespace}`}.`);
      return;
    }
    process.stdout.write(formatObjects(def, objects, flags.output, Boolean(flags.allNamespaces)));
  });
}

/** Creates `obj`, or replaces the live object of that name keeping its resourceVersion. */
async function upsert(client: KubeClient, def: KindDefinition, obj: KubeObject): Promise<void> {
  try {
    await client.create(def, obj);
  } catch (err) {
    if (!isStatusError(err, 'AlreadyExists')) throw err;
    const live = await client.get<KubeObject>(def, obj.metadata.name!, obj.metadata.namespace);
    await client.update(def, { ...obj, metadata: { ...obj.metadata, resourceVersion: live.metadata.resourceVersion } });
  }
}

interface GitSecretFlags {
  url: string;
  privateKeyFile?: string;
  knownHostsFile?: string;
  hostKeyFingerprint?: string;
  username?: string;
  password?: string;
  bearerToken?: string;
  caFile?: string;
  export?: boolean;
}

function isSsh(url: string): boolean {
  return url.startsWith('ssh://') || /^[A-Za-z0-9._-]+@[^:/]+:/.test(url);
}

/** The Secret for `url` with Flux's keys; values go in stringData, never on a log line. */
async function gitSecret(name: string, namespace: string, flags: GitSecretFlags): Promise<KubeObject> {
  const data: Record<string, string> = {};
  if (isSsh(flags.url)) {
    if (!flags.privateKeyFile) throw new Error(`--private-key-file is required for the ssh URL ${flags.url}`);
    data.identity = await readFile(flags.privateKeyFile, 'utf8');
    data.known_hosts = flags.knownHostsFile
      ? await readFile(flags.knownHostsFile, 'utf8')
      : await (await import('./host-key.ts')).hostKeyOf(flags.url, flags.hostKeyFingerprint, progress);
  } else {
    const password = flags.password ?? process.env.GIT_PASSWORD;
    const token = flags.bearerToken ?? process.env.GIT_BEARER_TOKEN;
    if (flags.username) {
      if (!password) throw new Error('--username needs --password (or GIT_PASSWORD)');
      data.username = flags.username;
      data.password = password;
    } else if (token) {
      data.bearerToken = token;
    }
    if (flags.caFile) data['ca.crt'] = await readFile(flags.caFile, 'utf8');
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'gatehouse.dev/git-credentials': 'true' } },
    type: 'Opaque',
    stringData: data,
  } as KubeObject;
}

export interface SyncDiff {
  revision?: string;
  objects: Array<{
    id: string;
    kind: string;
    namespace?: string;
    name: string;
    action: 'create' | 'update' | 'delete' | 'unchanged';
    changes: Array<{ path: string; live?: unknown; desired?: unknown }>;
  }>;
}

function renderDiff(diff: SyncDiff): string {
  const changed = diff.objects.filter((o) => o.action !== 'unchanged');
  if (!changed.length)
    return `No changes: the live objects match ${diff.revision ?? 'the source'} (${diff.objects.length} objects).\n`;
  const lines: string[] = [];
  for (const o of changed) {
    lines.push(`${o.action === 'create' ? '+' : o.action === 'delete' ? '-' : '~'} ${describeObject(o)} (${o.action})`);
    if (o.action === 'update') {
      lines.push(
        ...table(o.changes.map((c) => [`    ${c.path}`, `${showValue(c.live)} → ${showValue(c.desired)}`]))
          .trimEnd()
          .split('\n'),
      );
    }
  }
  lines.push(
    `${changed.length} of ${diff.objects.length} objects would change${diff.revision ? ` applying ${diff.revision}` : ''}.`,
  );
  return `${lines.join('\n')}\n`;
}
