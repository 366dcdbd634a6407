// The Git layer of the GitOps controller: fetch a GitRepository's source with the system
// git and ssh into an artifact directory. It knows nothing of the API server; callers pass
// the spec fields and the decoded Secret. See docs/gitops-sources.md.
export { checkout, type CheckoutOptions, type CheckoutResult } from './checkout.ts';
export { digestDirectory } from './artifact.ts';
export { authFromSecretData, SECRET_KEYS, type GitAuth } from './credentials.ts';
export { GitError, isGitError, type GitErrorCode } from './errors.ts';
export { fingerprintOf, scanHostKey, type HostKey, type ScanOptions } from './host-key.ts';
export { parseGitUrl, type GitTransport, type GitUrl } from './url.ts';
