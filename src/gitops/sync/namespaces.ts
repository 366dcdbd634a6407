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

/** Sets metadata.namespace on the manifests' objects, in place. */
export function assignNamespaces(manifests: readonly Manifest[], options: NamespaceOptions): void {
  for (const manifest of manifests) {
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
    if (def.namespaced)
      object.metadata.namespace = options.targetNamespace || object.metadata.namespace || options.namespace;
    else delete object.metadata.namespace;
  }
}
