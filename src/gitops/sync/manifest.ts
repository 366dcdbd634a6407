// A manifest is one object read from a source, with where it came from, so every error
// about it can name the file. Object identity follows Flux's inventory:
// `<namespace>_<name>_<group>_<kind>`, the namespace empty for cluster-scoped kinds.
// Names, namespaces, groups and kinds never contain '_', so an id splits back unambiguously.
import type { KubeObject } from '../../api/kind.ts';

export interface Manifest {
  object: KubeObject;
  /** Path of the file relative to the artifact root; for a kustomization, its
   * kustomization file (the objects are documents of its build output). */
  file: string;
  /** 0-based index of the YAML document in the file (in the build output). */
  index: number;
}

export interface ObjectIdentity {
  /** Absent for cluster-scoped kinds. */
  namespace?: string;
  name: string;
  /** '' for the core group. */
  group: string;
  kind: string;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function identityOf(obj: KubeObject): ObjectIdentity {
  const identity: ObjectIdentity = { name: obj.metadata.name ?? '', group: groupOf(obj.apiVersion), kind: obj.kind };
  if (obj.metadata.namespace) identity.namespace = obj.metadata.namespace;
  return identity;
}

export function formatId(identity: ObjectIdentity): string {
  return `${identity.namespace ?? ''}_${identity.name}_${identity.group}_${identity.kind}`;
}

export function objectId(obj: KubeObject): string {
  return formatId(identityOf(obj));
}

/** The identity an inventory id names, or undefined when it is not one. */
export function parseId(id: string): ObjectIdentity | undefined {
  const parts = id.split('_');
  if (parts.length !== 4 || !parts[1] || !parts[3]) return undefined;
  const [namespace, name, group, kind] = parts;
  return namespace ? { namespace, name, group, kind } : { name, group, kind };
}

/** `Kind namespace/name`, or `Kind name` for cluster-scoped objects, as messages name them. */
export function describeObject(identity: Pick<ObjectIdentity, 'kind' | 'namespace' | 'name'>): string {
  return `${identity.kind} ${identity.namespace ? `${identity.namespace}/` : ''}${identity.name}`;
}

/** `file, document N` with N counted from 1, as people count. */
export function describeSource(manifest: Pick<Manifest, 'file' | 'index'>): string {
  return `${manifest.file}, document ${manifest.index + 1}`;
}
