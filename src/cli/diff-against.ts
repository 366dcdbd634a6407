// `gatehouse diff sync A --against B`: what differs between the live objects of two Syncs (two environments),
// per object and field. Each Sync is read from its API server (B's from --against-kubeconfig when given) and its
// objects from where it applies them: that server, or the cluster of its spec.kubeConfig Secret. Exit codes as
// kubectl diff's: 0 equal, 1 different, 2 (the command's failure code) on error.
import { secretKind } from '../api/core/secret/index.ts';
import type { KubeObject } from '../api/kind.ts';
import { syncKind, type Sync } from '../api/kinds/sync/index.ts';
import { kubeconfigFromData, loadKubeconfig } from '../client/kubeconfig.ts';
import { KubeClient } from '../client/rest.ts';
import { compareEnvironments, liveObjectsOf, type EnvironmentObjectDiff } from '../gitops/sync/environment-diff.ts';
import { describeObject } from '../gitops/sync/manifest.ts';
import { CommandFailure, explainFailure } from './failure.ts';
import { showValue, table } from './print.ts';

export interface DiffAgainstFlags {
  against: string;
  againstNamespace?: string;
  againstKubeconfig?: string;
  /** `FROM=TO` pairs: A's namespace FROM holds what B's namespace TO holds. */
  mapNamespace: string[];
  output: 'text' | 'json';
}

export interface EnvironmentDiff {
  a: string;
  b: string;
  /** A's namespaces whose objects are matched with B's objects of another namespace. */
  namespaces: Record<string, string>;
  objects: EnvironmentObjectDiff[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Compares Sync `namespace/name` of `client` with the Sync `flags.against`, prints the result and returns the
 * exit code. */
export async function diffAgainst(
  client: KubeClient,
  namespace: string,
  name: string,
  flags: DiffAgainstFlags,
): Promise<number> {
  const explicit = namespaceMap(flags.mapNamespace);
  const other = flags.againstKubeconfig ? await otherServer(flags.againstKubeconfig) : undefined;
  const clientB = other?.client ?? client;
  try {
    const onB = other?.explained ?? (<T>(work: Promise<T>) => work);
    const a = await client.get<Sync>(syncKind, name, namespace);
    const syncB = await onB(clientB.get<Sync>(syncKind, flags.against, flags.againstNamespace ?? namespace));
    const objectsA = await withTargetOf(client, a, (target) => liveObjectsOf(target, a));
    const objectsB = await onB(withTargetOf(clientB, syncB, (target) => liveObjectsOf(target, syncB)));
    const namespaces = { ...defaultMap(a, syncB), ...explicit };
    const diff: EnvironmentDiff = {
      a: `${a.metadata.namespace}/${a.metadata.name}`,
      b: `${syncB.metadata.namespace}/${syncB.metadata.name}`,
      namespaces,
      objects: compareEnvironments(objectsA, objectsB, namespaces),
    };
    process.stdout.write(flags.output === 'json' ? `${JSON.stringify(diff, null, 2)}\n` : render(diff));
    return diff.objects.some((o) => o.state !== 'equal') ? 1 : 0;
  } finally {
    await other?.client.close();
  }
}

/** B's API server, and its failures worded as naming its kubeconfig (the command's own name A's). */
async function otherServer(kubeconfig: string) {
  const config = await loadKubeconfig(kubeconfig);
  const client = new KubeClient(config);
  const explained = <T>(work: Promise<T>): Promise<T> =>
    work.catch((err: unknown) => {
      throw new CommandFailure(explainFailure(err, { kubeconfig, server: config.server }), 2, { cause: err });
    });
  return { client, explained };
}

/** Runs `read` with a client of where `sync` applies its objects: the server it lives on, or the cluster of its
 * spec.kubeConfig Secret (read with the caller's rights, as the Sync's controller reads it). */
async function withTargetOf<T>(client: KubeClient, sync: Sync, read: (target: KubeClient) => Promise<T>): Promise<T> {
  const ref = sync.spec.kubeConfig?.secretRef;
  if (!ref) return read(client);
  const namespace = sync.metadata.namespace as string;
  const secret = await client.get<KubeObject & { data?: Record<string, string> }>(secretKind, ref.name, namespace);
  const keys = ref.key ? [ref.key] : ['value', 'value.yaml'];
  const value = keys.map((k) => secret.data?.[k]).find((v) => v !== undefined);
  const origin = `Secret ${namespace}/${ref.name}`;
  if (value === undefined) {
    throw new Error(
      `${origin} has no key ${keys.join(' or ')}, which spec.kubeConfig of Sync ${sync.metadata.name} needs`,
    );
  }
  const target = new KubeClient(await kubeconfigFromData(Buffer.from(value, 'base64').toString(), origin));
  try {
    return await read(target);
  } finally {
    await target.close();
  }
}

/** Where each Sync puts namespaced objects that name no namespace of their own: spec.targetNamespace or its own. */
function defaultMap(a: Sync, b: Sync): Record<string, string> {
  const destination = (s: Sync) => s.spec.targetNamespace || (s.metadata.namespace as string);
  return destination(a) === destination(b) ? {} : { [destination(a)]: destination(b) };
}

function namespaceMap(pairs: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const [from, to, ...rest] = pair.split('=');
    if (rest.length || !DNS_LABEL.test(from ?? '') || !DNS_LABEL.test(to ?? '')) {
      throw new Error(`--map-namespace ${pair}: expected FROM=TO, two namespace names`);
    }
    map[from] = to;
  }
  return map;
}

function render(diff: EnvironmentDiff): string {
  const between = `Sync ${diff.a} (A) and Sync ${diff.b} (B)`;
  const differing = diff.objects.filter((o) => o.state !== 'equal');
  if (!differing.length) return `No differences: the ${diff.objects.length} objects of ${between} match.\n`;
  const lines: string[] = [];
  const mapped = Object.entries(diff.namespaces).map(([from, to]) => `${from} → ${to}`);
  if (mapped.length) lines.push(`Namespaces matched: ${mapped.join(', ')}.`);
  for (const o of differing) {
    const a = o.a && describeObject({ kind: o.kind, ...o.a });
    const b = o.b && describeObject({ kind: o.kind, ...o.b });
    if (o.state === 'onlyA') lines.push(`- ${a} (only in A)`);
    else if (o.state === 'onlyB') lines.push(`+ ${b} (only in B)`);
    else {
      lines.push(`~ ${a}${o.a?.namespace === o.b?.namespace ? '' : ` ≠ ${o.b?.namespace}/${o.b?.name}`}`);
      const rows = o.changes.map((c) => [`    ${c.path}`, `A ${showValue(c.a)}`, `B ${showValue(c.b)}`]);
      lines.push(...table(rows).trimEnd().split('\n'));
    }
  }
  lines.push(`${differing.length} of ${diff.objects.length} objects differ between ${between}.`);
  return `${lines.join('\n')}\n`;
}
