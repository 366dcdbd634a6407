import type { KubeObject } from '../../kind.ts';

export interface Secret extends KubeObject {
  /** Values are base64. */
  data?: Record<string, string>;
  /** Write-only plaintext values; merged into data by the server and never stored. */
  stringData?: Record<string, string>;
  type: string;
  immutable?: boolean;
}
