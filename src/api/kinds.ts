// Every kind the server serves: the stored ones (core v1 first, in discovery order), then the create-only.
import type { KindDefinition } from './kind.ts';
import { authenticationReviewKinds } from './authentication/kinds.ts';
import { accessReviewKinds } from './authorization/kinds.ts';
import { selfSubjectRulesReviewKind } from './authorization/rules-review.ts';
import { configMapKind } from './core/config-map/index.ts';
import { eventKind } from './core/event/index.ts';
import { eventsV1EventKind } from './events/index.ts';
import { leaseKind } from './core/lease/index.ts';
import { namespaceKind } from './core/namespace/index.ts';
import { secretKind } from './core/secret/index.ts';
import { serviceAccountKind } from './core/service-account/index.ts';
import { rbacKinds } from './rbac/kinds.ts';
import { alertKind } from './kinds/alert/index.ts';
import { apiDefinitionKind } from './kinds/api-definition/index.ts';
import { apiKeyKind } from './kinds/api-key/index.ts';
import { consumerKind } from './kinds/consumer/index.ts';
import { gitRepositoryKind } from './kinds/git-repository/index.ts';
import { providerKind } from './kinds/provider/index.ts';
import { receiverKind } from './kinds/receiver/index.ts';
import { securityPolicyKind } from './kinds/security-policy/index.ts';
import { subresourceRequestKind } from './kinds/subresource-request/index.ts';
import { syncKind } from './kinds/sync/index.ts';

export const allKinds: KindDefinition[] = [
  namespaceKind,
  secretKind,
  configMapKind,
  eventKind,
  serviceAccountKind,
  leaseKind,
  ...rbacKinds,
  apiDefinitionKind,
  securityPolicyKind,
  consumerKind,
  apiKeyKind,
  gitRepositoryKind,
  syncKind,
  receiverKind,
  providerKind,
  alertKind,
  subresourceRequestKind,
];

/** Kinds served only to be created and answered, never stored (KindDefinition.createOnly): not objects a
 * manifest holds, so they are not among allKinds. */
export const createOnlyKinds: KindDefinition[] = [
  ...accessReviewKinds,
  selfSubjectRulesReviewKind,
  ...authenticationReviewKinds,
];

/** Kinds served from another kind's storage (KindDefinition.storedAs): other shapes of objects of allKinds. */
export const storedAsKinds: KindDefinition[] = [eventsV1EventKind];

/** Every kind the API server serves, in discovery order. */
export const servedKinds: KindDefinition[] = [...allKinds, ...storedAsKinds, ...createOnlyKinds];

/** The kinds served aggregated behind kube-apiserver: only Gatehouse's group. Namespaces, Secrets, RBAC,
 * ServiceAccounts, Leases, Events and the reviews are the cluster's. */
export const aggregatedKinds: KindDefinition[] = servedKinds.filter((k) => k.group === 'gatehouse.dev');

export function apiVersionOf(def: KindDefinition): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** The kind of an object by its apiVersion and kind, as manifests name it. */
export function kindFor(
  apiVersion: string,
  kind: string,
  kinds: KindDefinition[] = allKinds,
): KindDefinition | undefined {
  return kinds.find((k) => k.kind === kind && apiVersionOf(k) === apiVersion);
}

/** The kind served at a resource URL segment (plural) of a group. */
export function kindForResource(
  group: string,
  plural: string,
  kinds: KindDefinition[] = allKinds,
): KindDefinition | undefined {
  return kinds.find((k) => k.group === group && k.plural === plural);
}

/**
 * The kind a user means by a name as kubectl accepts it: plural, singular, short name or
 * kind, case-insensitive, optionally qualified by group (`apis.gatehouse.dev`).
 */
export function resolveKind(name: string, kinds: KindDefinition[] = allKinds): KindDefinition | undefined {
  const lower = name.toLowerCase();
  const dot = lower.indexOf('.');
  const resource = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  return kinds.find(
    (k) =>
      (group === undefined || k.group === group) &&
      (k.plural === resource ||
        k.singular === resource ||
        k.kind.toLowerCase() === resource ||
        k.shortNames.includes(resource)),
  );
}
