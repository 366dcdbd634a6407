// Keeps a PolicyIndex current from watches of the four RBAC kinds, through the registry's stores
// (kube's RBAC authorizer reads informer caches the same way). The index is whole once each watch
// has delivered its initial state; a watch that ends (storage restarted, history compacted) is opened
// again and its initial state replaces what the index held of that kind.
import type { KubeObject } from '../../../api/kind.ts';
import { RBAC_GROUP } from '../../../api/rbac/types.ts';
import type { Registry } from '../../registry/registry.ts';
import type { PolicyIndex, RbacKind } from './policy-index.ts';

const PLURALS: Record<RbacKind, string> = {
  Role: 'roles',
  ClusterRole: 'clusterroles',
  RoleBinding: 'rolebindings',
  ClusterRoleBinding: 'clusterrolebindings',
};

const RETRY_MS = 1000;

/** Told after the index changed, with what changed (for controllers fed by the same watches). */
export type PolicyListener = (kind: RbacKind, obj: KubeObject) => void;

/** Starts the watches; resolves once the index holds the current state of every kind. */
export async function feedPolicyIndex(
  registry: Registry,
  index: PolicyIndex,
  signal: AbortSignal,
  listener?: PolicyListener,
): Promise<void> {
  await Promise.all(
    (Object.keys(PLURALS) as RbacKind[]).map(
      (kind) =>
        new Promise<void>((synced, failed) => {
          void follow(registry, index, kind, signal, listener, synced, failed);
        }),
    ),
  );
}

async function follow(
  registry: Registry,
  index: PolicyIndex,
  kind: RbacKind,
  signal: AbortSignal,
  listener: PolicyListener | undefined,
  synced: () => void,
  failed: (err: unknown) => void,
): Promise<void> {
  const store = registry.store(RBAC_GROUP, PLURALS[kind]);
  if (!store) return failed(new Error(`the ${kind} kind is not registered`));
  let everSynced = false;
  while (!signal.aborted) {
    try {
      const initial: KubeObject[] = [];
      let initialized = false;
      for await (const event of await store.watch(undefined, { sendInitialEvents: true }, signal)) {
        if (event.type === 'BOOKMARK') {
          if (!event.initialEventsEnd) continue;
          index.reset(kind, initial);
          initialized = true;
          for (const obj of initial) listener?.(kind, obj);
          if (!everSynced) synced();
          everSynced = true;
        } else if (!initialized) initial.push(event.object);
        else {
          index.apply(kind, event.type, event.object);
          listener?.(kind, event.object);
        }
      }
    } catch (err) {
      // The first watch failing means the server cannot authorize: startup fails with it.
      if (!everSynced) return failed(err);
    }
    if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
