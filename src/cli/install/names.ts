// The names in deploy/ that `gatehouse install` relies on, apart from the install itself so that declaring the
// command's options does not load it.

/** The image deploy/ names (with this version's tag); --image replaces it, as kustomize's `images` would. */
export const IMAGE = 'ghcr.io/gatehouse-dev/gatehouse';
/** The Secret deploy/base/apiserver.yaml mounts. */
export const SERVING_SECRET = 'gatehouse-apiserver-tls';
