import pg from 'pg';
import { translateSqlError } from './errors.ts';
import type { NotificationHandler, SqlClient, SqlQueryable } from './sql-client.ts';

export interface PgClientOptions {
  /** Pool size; writes use one connection at a time (group commit), reads the rest. */
  maxConnections?: number;
  /** Reports a pooled connection's failure (the server gone, a FATAL from it). pg emits these as 'error'
   * events on the connection, idle or checked out between queries, and throws them when nobody listens. */
  onConnectionError?: (err: Error) => void;
}

const RELISTEN_DELAY_MS = 1000;

/** Opens a pg Pool on a PostgreSQL server, plus one dedicated session for LISTEN. */
export async function openPgClient(url: string, options: PgClientOptions = {}): Promise<SqlClient> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 16 });
  // Every connection listens from its start: the pool's own listener covers only idle ones, so a connection
  // that failed while checked out between queries would otherwise throw from the process.
  pool.on('connect', (client) => client.on('error', (err) => options.onConnectionError?.(err)));
  pool.on('error', () => undefined); // already reported by the connection's listener
  const listeners: ListenSession[] = [];
  const queryable = (q: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query(text, params) {
      const result = await q.query(text, params === undefined ? undefined : [...params]);
      return result.rows;
    },
  });
  // Fail fast on a bad URL or a server that is down, rather than on first use.
  try {
    (await pool.connect()).release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw translateSqlError(err, 'connecting to PostgreSQL');
  }
  return {
    ...queryable(pool),
    async transaction(fn) {
      const client = await pool.connect();
      let rollbackFailed = false;
      try {
        await client.query('BEGIN');
        const result = await fn(queryable(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          rollbackFailed = true;
        });
        throw err;
      } finally {
        // A connection whose rollback failed is in an unknown state: destroy it.
        client.release(rollbackFailed);
      }
    },
    async listen(channel, handler) {
      const session = new ListenSession(url, channel, handler);
      listeners.push(session);
      await session.start();
    },
    async close() {
      await Promise.all(listeners.map((l) => l.stop()));
      await pool.end();
    },
  };
}

/** A dedicated LISTEN connection that reconnects after failures until stopped. */
class ListenSession {
  private client: pg.Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly handler: NotificationHandler,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (msg.channel === this.channel) this.handler.notify(msg.payload ?? '');
    });
    client.on('error', (err) => this.broken(client, err));
    client.on('end', () => this.broken(client, new Error('LISTEN connection ended')));
    this.client = client;
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private broken(client: pg.Client, err: unknown): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.handler.lost(err);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.retry = setTimeout(() => {
      this.start().then(
        () => this.handler.restored(),
        (err: unknown) => {
          const client = this.client;
          this.client = undefined;
          client?.end().catch(() => undefined);
          if (this.stopped) return;
          this.handler.lost(err);
          this.scheduleRestart();
        },
      );
    }, RELISTEN_DELAY_MS);
    this.retry.unref();
  }
}
