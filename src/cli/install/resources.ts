// Where each kind deploy/ holds is served, and the order `gatehouse install` applies them in: Namespaces and
// identities before what refers to them, workloads after their Secrets, the APIService last so kube-apiserver
// sends nothing to Gatehouse before its Service exists (the install order of kustomize and Helm). A kind outside
// this table is refused by name: deploy/ is Gatehouse's own, and a mapping guessed from a kind name could be
// wrong (kubectl asks discovery; this table is checked against deploy/ by test/deploy.test.ts).
import type { KubeObject } from '../../api/kind.ts';
import type { ResourceRef } from '../../client/rest.ts';
import { CommandFailure } from '../failure.ts';

const ref = (apiVersion: string, plural: string, namespaced: boolean): ResourceRef & { apiVersion: string } => {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return { apiVersion, group, version, plural, namespaced };
};

/** In apply order. */
const RESOURCES: Record<string, ResourceRef & { apiVersion: string }> = {
  Namespace: ref('v1', 'namespaces', false),
  ServiceAccount: ref('v1', 'serviceaccounts', true),
  Secret: ref('v1', 'secrets', true),
  ClusterRole: ref('rbac.authorization.k8s.io/v1', 'clusterroles', false),
  ClusterRoleBinding: ref('rbac.authorization.k8s.io/v1', 'clusterrolebindings', false),
  Role: ref('rbac.authorization.k8s.io/v1', 'roles', true),
  RoleBinding: ref('rbac.authorization.k8s.io/v1', 'rolebindings', true),
  Issuer: ref('cert-manager.io/v1', 'issuers', true),
  Certificate: ref('cert-manager.io/v1', 'certificates', true),
  Service: ref('v1', 'services', true),
  StatefulSet: ref('apps/v1', 'statefulsets', true),
  Deployment: ref('apps/v1', 'deployments', true),
  PodDisruptionBudget: ref('policy/v1', 'poddisruptionbudgets', true),
  APIService: ref('apiregistration.k8s.io/v1', 'apiservices', false),
};
const ORDER = Object.keys(RESOURCES);

export function resourceOf(obj: KubeObject): ResourceRef {
  const resource = RESOURCES[obj.kind];
  if (resource?.apiVersion !== obj.apiVersion) {
    throw new CommandFailure(
      `${obj.apiVersion} ${obj.kind} "${obj.metadata.name}": not a kind gatehouse install applies`,
      1,
    );
  }
  return resource;
}

/** `objects` in apply order; objects of one kind keep their order. */
export function inApplyOrder(objects: KubeObject[]): KubeObject[] {
  // A kind outside the table is refused before anything is applied.
  for (const obj of objects) resourceOf(obj);
  return objects
    .map((obj, i) => ({ obj, i, rank: ORDER.indexOf(obj.kind) }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map(({ obj }) => obj);
}
