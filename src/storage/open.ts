import { join, resolve } from 'node:path';
import type { Storage } from './storage.ts';
import type { StorageLogger } from './auto-compaction.ts';
import { MemoryStorage } from './memory/memory-storage.ts';
import { openPgClient } from './sql/pg-client.ts';
import { openPgliteClient } from './sql/pglite-client.ts';
import { SqlStorage } from './sql/sql-storage.ts';

export interface OpenStorageOptions {
  /** Where `pglite` keeps its files: `<dataDir>/pglite`. Default `./.gatehouse`. */
  dataDir?: string;
  /** Automatic compaction period in milliseconds, keeping at least one period of
   * history; 0 disables it. Default five minutes, as kube-apiserver compacts etcd. */
  compactEvery?: number;
  logger?: StorageLogger;
}

export const DEFAULT_COMPACT_EVERY_MS = 5 * 60_000;

/** Whether the storage a spec names can be shared by several processes (PostgreSQL), so work only one of
 * them may do (the garbage collector) needs an election. */
export function isSharedStorage(spec: string): boolean {
  return spec.startsWith('postgres://') || spec.startsWith('postgresql://');
}

/**
 * Opens the storage a spec names:
 * - `memory`: in process, lost on exit;
 * - `pglite`: embedded PostgreSQL on disk under `<dataDir>/pglite`;
 * - `pglite:DIR`: embedded PostgreSQL on disk under DIR; `pglite:memory`: in memory;
 * - `postgres://…` or `postgresql://…`: a PostgreSQL server.
 */
export async function openStorage(spec: string, options: OpenStorageOptions = {}): Promise<Storage> {
  const driverOptions = { compactEvery: options.compactEvery ?? DEFAULT_COMPACT_EVERY_MS, logger: options.logger };
  if (spec === 'memory') return new MemoryStorage(driverOptions);
  if (spec === 'pglite') {
    return SqlStorage.open(
      await openPgliteClient(join(resolve(options.dataDir ?? '.gatehouse'), 'pglite')),
      driverOptions,
    );
  }
  if (spec === 'pglite:memory') return SqlStorage.open(await openPgliteClient(), driverOptions);
  if (spec.startsWith('pglite:') && spec.length > 'pglite:'.length) {
    return SqlStorage.open(await openPgliteClient(resolve(spec.slice('pglite:'.length))), driverOptions);
  }
  if (isSharedStorage(spec)) {
    const client = await openPgClient(spec, {
      onConnectionError: (err) => options.logger?.warn({ err }, 'PostgreSQL connection failed'),
    });
    return SqlStorage.open(client, driverOptions);
  }
  throw new Error(`unknown storage "${spec}": expected memory, pglite, pglite:DIR, pglite:memory or a postgres:// URL`);
}
