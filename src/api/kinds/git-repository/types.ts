import type { KubeObject } from '../../kind.ts';
import type { CommonStatus, LocalObjectReference } from '../../status.ts';

/** Flux's GitRepositoryRef: commit wins over semver, semver over tag, tag over branch. */
export interface GitRepositoryRef {
  branch?: string;
  tag?: string;
  semver?: string;
  commit?: string;
}

export interface GitRepositorySpec {
  url: string;
  ref?: GitRepositoryRef;
  secretRef?: LocalObjectReference;
  interval: string;
  timeout: string;
  suspend: boolean;
}

export interface Artifact {
  /** `<branch or tag>@sha1:<sha>`, as Flux writes it. */
  revision: string;
  /** `sha256:<hex>` of the artifact content. */
  digest?: string;
  /** Where the artifact is kept, relative to the controller's storage. */
  path?: string;
  lastUpdateTime?: string;
}

export interface GitRepositoryStatus extends CommonStatus {
  artifact?: Artifact;
}

export interface GitRepository extends KubeObject {
  spec: GitRepositorySpec;
  status?: GitRepositoryStatus;
}
