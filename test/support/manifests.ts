// Manifests as they are committed to Git in GitOps tests and benchmarks.

/** One ApiDefinition as YAML, proxying `listenPath` (stripped) to `upstream`; `header` is
 * set on every response the gateway sends for it. */
export function apiManifest(
  name: string,
  listenPath: string,
  upstream: string,
  header?: { name: string; value: string },
): string {
  const headers = header ? `  responseHeaders:\n    set:\n      ${header.name}: "${header.value}"\n` : '';
  return `apiVersion: gatehouse.dev/v1alpha1
kind: ApiDefinition
metadata:
  name: ${name}
spec:
  listenPath: ${listenPath}
  stripListenPath: true
  upstream:
    targets:
      - url: ${upstream}
${headers}`;
}
