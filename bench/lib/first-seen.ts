// Timestamps the stages a pushed change goes through, from watch events on the API server:
// e.g. when the GitRepository's status.artifact first names a revision (fetched and
// stored), when an ApiDefinition first carries a value (written by the Sync), when the
// Sync's status first records the revision as applied. Times are performance.now() of this
// process at the event's arrival, so they include the watch's delivery delay (a few
// milliseconds on loopback) and compare directly with the benchmark's own clock.
import type { KubeObject } from '../../src/api/kind.ts';
import type { KubeClient, ResourceRef } from '../../src/client/rest.ts';

export interface FirstSeen {
  /** When `key` was first seen on the watched object, if it was. */
  at(key: string): number | undefined;
  stop(): void;
}

/**
 * Watches the object `name` of kind `ref` in `namespace` and records when each value of
 * `keyOf(object)` is first seen. The watch resumes after the server ends a stream, and
 * failures are retried after a short pause: a stage never seen is reported as missing.
 */
export function watchFirstSeen<T extends KubeObject>(
  client: KubeClient,
  ref: ResourceRef,
  namespace: string,
  name: string,
  keyOf: (obj: T) => string | undefined,
): FirstSeen {
  const abort = new AbortController();
  const seen = new Map<string, number>();
  void (async () => {
    let resourceVersion: string | undefined;
    while (!abort.signal.aborted) {
      try {
        for await (const event of client.watch<T>(
          ref,
          { namespace, resourceVersion, timeoutSeconds: 300 },
          abort.signal,
        )) {
          if (event.type === 'ERROR') {
            resourceVersion = undefined;
            break;
          }
          resourceVersion = event.object.metadata.resourceVersion;
          if (event.type === 'BOOKMARK' || event.object.metadata.name !== name) continue;
          const key = keyOf(event.object);
          if (key !== undefined && !seen.has(key)) seen.set(key, performance.now());
        }
      } catch {
        if (abort.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  })();
  return { at: (key) => seen.get(key), stop: () => abort.abort() };
}
