// Where each object goes. The kinds the API server serves (src/api/kinds.ts) say which are
// namespaced: those get `targetNamespace` when the Sync sets one, whatever the manifest
// says (as kustomize's namespace field does), else keep their own, else go to the Sync's
// namespace. Cluster-scoped objects lose any namespace they carry, as the server would drop
// it. A kind the server does not serve is an error: it could be neither placed nor applied.
import { allKinds, apiVersionOf, kindFor } from '../../api/kinds.ts';
import { BuildError } from './errors.ts';
import { describeSource, type Manifest } from './manifest.ts';

export interface NamespaceOptions {
  /** The Sync's own namespace. */
  namespace: string;
  targetNamespace?: string;
}

/** The manifests with their objects' metadata.namespace set: copies, so parsed objects stay as parsed (build
 * reuses them). */
export function assignNamespaces(manifests: readonly Manifest[], options: NamespaceOptions): Manifest[] {
  return manifests.map((manifest) => {
    const { object } = manifest;
    const def = kindFor(object.apiVersion, object.kind);
    if (!def) {
      const served = allKinds.map((k) => `${k.kind} (${apiVersionOf(k)})`).join(', ');
      throw new BuildError(
        'UnknownKind',
        `${describeSource(manifest)}: unknown kind ${object.kind} of apiVersion ${object.apiVersion}; the server serves ${served}`,
        manifest.file,
      );
    }
    const { namespace: _, ...metadata } = object.metadata;
    if (def.namespaced) metadata.namespace = options.targetNamespace || object.metadata.namespace || options.namespace;
    return { ...manifest, object: { ...object, metadata } };
  });
}
