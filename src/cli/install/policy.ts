// The part of Gatehouse's default RBAC policy a cluster needs when Gatehouse runs behind kube-apiserver:
// the gatehouse ClusterRoles (admin, edit and view aggregate into the cluster's own through their labels), the
// gateway's status-Lease Role and the bindings of the components' ServiceAccounts. deploy/base/rbac/policy.yaml is
// this, generated (`npm run generate:deploy`), so the cluster's roles are the ones the standalone server enforces.
import type { KubeObject } from '../../api/kind.ts';
import type { RoleBinding } from '../../api/rbac/types.ts';
import {
  AUTOUPDATE_ANNOTATION,
  BOOTSTRAP_CLUSTER_ROLE_BINDINGS,
  BOOTSTRAP_CLUSTER_ROLES,
  BOOTSTRAP_ROLE_BINDINGS,
  BOOTSTRAP_ROLES,
} from '../../apiserver/auth/rbac/bootstrap-policy.ts';
import { yamlDocuments } from './kustomization.ts';

export const PART_OF = { 'app.kubernetes.io/part-of': 'gatehouse' };

/** kube-apiserver reconciles only its own bootstrap roles; in a cluster these are Gatehouse's, marked as such. */
function asInstalled<T extends KubeObject>(obj: T): T {
  const labels = { ...obj.metadata.labels };
  delete labels['kubernetes.io/bootstrapping'];
  const annotations = { ...obj.metadata.annotations };
  delete annotations[AUTOUPDATE_ANNOTATION];
  const metadata = { ...obj.metadata, labels: { ...labels, ...PART_OF } };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { ...obj, metadata };
}

/** Only ServiceAccounts: the groups of the standalone server's token files mean nothing in a cluster. */
const toServiceAccounts = (binding: RoleBinding): RoleBinding => ({
  ...binding,
  subjects: binding.subjects?.filter((s) => s.kind === 'ServiceAccount'),
});

const isGatehouse = (obj: KubeObject) => obj.metadata.name?.startsWith('gatehouse:') ?? false;

export function clusterPolicy(): KubeObject[] {
  const bindings = [...BOOTSTRAP_CLUSTER_ROLE_BINDINGS, ...BOOTSTRAP_ROLE_BINDINGS]
    .filter(isGatehouse)
    .map(toServiceAccounts)
    .filter((b) => (b.subjects?.length ?? 0) > 0);
  return [...BOOTSTRAP_CLUSTER_ROLES.filter(isGatehouse), ...BOOTSTRAP_ROLES, ...bindings].map(asInstalled);
}

export function clusterPolicyYaml(): string {
  const header =
    '# Generated from src/apiserver/auth/rbac/bootstrap-policy.ts by `npm run generate:deploy`: do not edit.\n';
  return header + yamlDocuments(clusterPolicy());
}
