import type { KubeObject } from '../../kind.ts';

export interface ServiceAccount extends KubeObject {
  secrets?: { name?: string; namespace?: string }[];
  imagePullSecrets?: { name: string }[];
  automountServiceAccountToken?: boolean;
}
