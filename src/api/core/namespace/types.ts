import type { KubeObject } from '../../kind.ts';

export type NamespacePhase = 'Active' | 'Terminating';

export interface Namespace extends KubeObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: NamespacePhase };
}
