import type { KubeObject } from '../../kind.ts';
import type { CommonStatus, LocalObjectReference } from '../../status.ts';

/** Flux's GitRepositoryRef: commit wins over semver, semver over tag, tag over branch. */
export interface GitRepositoryRef {
  branch?: string;
  tag?: string;
  semver?: string;
  commit?: string;
}

/** Flux's spec.verify: which signatures must verify against the keys of secretRef. */
export interface GitRepositoryVerification {
  /** HEAD: the commit; Tag: the annotated tag of spec.ref; TagAndHEAD: both. */
  mode: 'HEAD' | 'Tag' | 'TagAndHEAD';
  secretRef: LocalObjectReference;
}

export interface GitRepositorySpec {
  url: string;
  ref?: GitRepositoryRef;
  secretRef?: LocalObjectReference;
  verify?: GitRepositoryVerification;
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
  /** The verified signature (with spec.verify): the commit's, or the tag's in Tag mode. */
  signature?: ArtifactSignature;
  /** The commit's author, `Name <email>`, and its subject (first line of the message): what an
   * ApiDefinition's history names as the change a Sync applied. */
  author?: string;
  subject?: string;
}

export interface ArtifactSignature {
  /** What was signed. */
  of: 'commit' | 'tag';
  type: 'openpgp' | 'ssh';
  /** OpenPGP fingerprint, or `SHA256:…` of the SSH key. */
  key: string;
  /** The key's user id (OpenPGP) or principal (SSH allowed signers). */
  signer?: string;
}

export interface GitRepositoryStatus extends CommonStatus {
  artifact?: Artifact;
}

export interface GitRepository extends KubeObject {
  spec: GitRepositorySpec;
  status?: GitRepositoryStatus;
}
