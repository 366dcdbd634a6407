// Reconciles the bootstrap policy at every start, as kube-apiserver's RBAC post-start hook: a missing
// object is created; one not annotated autoupdate "false" gets the labels, annotations, rules,
// aggregation selectors and subjects it lacks (what was added to it stays); a binding whose roleRef
// differs is recreated. Nothing is written when nothing drifted, so replicas starting together agree.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../../api/kind.ts';
import { RBAC_GROUP, type ClusterRole, type RoleBinding } from '../../../api/rbac/types.ts';
import { ApiError } from '../../errors.ts';
import type { Registry } from '../../registry/registry.ts';
import type { WriteOptions } from '../../registry/store.ts';
import {
  AUTOUPDATE_ANNOTATION,
  BOOTSTRAP_CLUSTER_ROLE_BINDINGS,
  BOOTSTRAP_CLUSTER_ROLES,
  BOOTSTRAP_ROLE_BINDINGS,
  BOOTSTRAP_ROLES,
} from './bootstrap-policy.ts';
import { uncovered } from './rules.ts';

const WRITE: WriteOptions = { dryRun: false, fieldValidation: 'Strict' };
const ATTEMPTS = 5;

function reconciledRole(live: ClusterRole, expected: ClusterRole): ClusterRole {
  const role: ClusterRole = structuredClone(live);
  if (expected.aggregationRule) {
    // The rules of an aggregated role belong to the aggregation controller; only its selectors are ours.
    const selectors = [...(live.aggregationRule?.clusterRoleSelectors ?? [])];
    for (const s of expected.aggregationRule.clusterRoleSelectors ?? []) {
      if (!selectors.some((t) => isDeepStrictEqual(s, t))) selectors.push(s);
    }
    role.aggregationRule = { clusterRoleSelectors: selectors };
  } else {
    const held = live.rules ?? [];
    const missing = (expected.rules ?? []).filter((r) => uncovered(held, [r]).length > 0);
    if (missing.length) role.rules = [...held, ...missing];
  }
  return role;
}

function reconciledBinding(live: RoleBinding, expected: RoleBinding): RoleBinding {
  const binding: RoleBinding = structuredClone(live);
  const subjects = [...(live.subjects ?? [])];
  for (const s of expected.subjects ?? []) if (!subjects.some((t) => isDeepStrictEqual(s, t))) subjects.push(s);
  binding.subjects = subjects;
  return binding;
}

function withMetadata<T extends KubeObject>(obj: T, expected: T): T {
  const { labels = {}, annotations = {} } = obj.metadata;
  obj.metadata.labels = { ...expected.metadata.labels, ...labels };
  obj.metadata.annotations = { ...expected.metadata.annotations, ...annotations };
  return obj;
}

async function reconcile(registry: Registry, plural: string, expected: KubeObject): Promise<void> {
  const store = registry.store(RBAC_GROUP, plural);
  if (!store) throw new Error(`the ${expected.kind} kind is not registered`);
  const namespace = expected.metadata.namespace ?? '';
  const name = expected.metadata.name as string;
  const binding = expected.kind.endsWith('Binding');
  for (let attempt = 1; ; attempt++) {
    try {
      const live = await store.get(namespace, name).catch((err: unknown) => {
        if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
        throw err;
      });
      if (live?.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return;
      if (live && binding && !isDeepStrictEqual((live as RoleBinding).roleRef, (expected as RoleBinding).roleRef)) {
        // roleRef cannot change: kube deletes the binding and creates it anew.
        const preconditions = { resourceVersion: live.metadata.resourceVersion };
        await store.delete(namespace, name, { preconditions }, WRITE);
        continue;
      }
      if (!live) {
        await store.create(namespace, structuredClone(expected), WRITE);
        return;
      }
      const desired = withMetadata(
        binding
          ? reconciledBinding(live as RoleBinding, expected as RoleBinding)
          : reconciledRole(live as ClusterRole, expected as ClusterRole),
        expected,
      );
      if (!isDeepStrictEqual(desired, live)) await store.update(namespace, name, desired, WRITE);
      return;
    } catch (err) {
      // Another replica reconciling at the same time: read again and redo.
      const raced = err instanceof ApiError && ['AlreadyExists', 'Conflict', 'NotFound'].includes(err.reason);
      if (!raced || attempt >= ATTEMPTS) throw err;
    }
  }
}

export async function reconcileBootstrapPolicy(registry: Registry): Promise<void> {
  for (const role of BOOTSTRAP_CLUSTER_ROLES) await reconcile(registry, 'clusterroles', role);
  for (const role of BOOTSTRAP_ROLES) await reconcile(registry, 'roles', role);
  for (const binding of BOOTSTRAP_CLUSTER_ROLE_BINDINGS) await reconcile(registry, 'clusterrolebindings', binding);
  for (const binding of BOOTSTRAP_ROLE_BINDINGS) await reconcile(registry, 'rolebindings', binding);
}
