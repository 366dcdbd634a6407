import type { KubeObject } from '../../kind.ts';

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  /** Values are base64. */
  binaryData?: Record<string, string>;
  immutable?: boolean;
}
