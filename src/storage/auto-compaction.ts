import type { Storage } from './storage.ts';

/** The part of a pino logger storage uses. */
export interface StorageLogger {
  warn(fields: object, message: string): void;
}

/**
 * Every `everyMs`, compacts to the revision that was current at the previous tick (the
 * scheme kube-apiserver uses with etcd), so a watch or continue token stays usable for at
 * least one interval. Returns the function that stops it. The timer does not keep the
 * process alive.
 */
export function startAutoCompaction(
  storage: Pick<Storage, 'currentRevision' | 'compact'>,
  everyMs: number,
  logger?: StorageLogger,
): () => void {
  let previous: number | undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      try {
        const current = await storage.currentRevision();
        if (previous !== undefined && previous > 0) await storage.compact(previous);
        previous = current;
      } catch (err) {
        logger?.warn({ err }, 'storage compaction failed');
      } finally {
        running = false;
      }
    })();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
