// The storages the cross-component suites run their scenarios on: memory (fast, in process)
// and a real PostgreSQL server, as operators run several API servers. A test file starts at
// most one PostgreSQL server, on first use, and each API server gets a database of its own.
import { after } from 'node:test';
import { startPostgres, type TestPostgres } from './postgres.ts';

export const TEST_STORAGES = ['memory', 'postgres'] as const;
export type TestStorage = (typeof TEST_STORAGES)[number];

let postgres: Promise<TestPostgres> | undefined;

after(async () => {
  await (await postgres)?.stop();
});

/** The storage spec (for startTestApiServer) of a fresh, empty store of `storage`. Call it
 * from hooks or tests, not at load. */
export async function storageSpec(storage: TestStorage): Promise<string> {
  if (storage === 'memory') return 'memory';
  postgres ??= startPostgres();
  return (await postgres).newDatabase();
}
