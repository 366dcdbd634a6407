// The few things the SQL driver needs from a PostgreSQL connection, so one implementation
// of the store serves both embedded PGlite and a PostgreSQL server.

export type SqlRow = Record<string, unknown>;

export interface SqlQueryable {
  /** Runs one statement with $1.. parameters. int8 columns may come back as number or
   * string depending on the adapter; callers convert with Number(). */
  query(text: string, params?: readonly unknown[]): Promise<SqlRow[]>;
}

/** Receives NOTIFY payloads from other sessions of the same database. */
export interface NotificationHandler {
  notify(payload: string): void;
  /** The listening session broke; notifications may have been missed until restored(). */
  lost(error: unknown): void;
  restored(): void;
}

export interface SqlClient extends SqlQueryable {
  /** Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** LISTENs on `channel`. Absent when only one process can use the database (PGlite),
   * where in-process delivery sees every write. */
  listen?(channel: string, handler: NotificationHandler): Promise<void>;
  /** Fails with StorageError 'Unavailable' when the disk under the database lacks room for
   * about `bytes` more. Only where the database cannot refuse such a write itself (PGlite on
   * disk); a PostgreSQL server answers it with SQLSTATE 53100 disk_full. Callers check inside the transaction
   * that writes: PGlite runs one transaction or statement at a time, so no other write can take the room
   * between the check and the write (two writes checked before either wrote could both pass and fill the disk). */
  ensureSpace?(bytes: number): Promise<void>;
  close(): Promise<void>;
}
