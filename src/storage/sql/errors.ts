import { StorageError } from '../storage.ts';

/**
 * The one place SQL failures become StorageErrors. Errors reported by the database server
 * carry a SQLSTATE; classes 08 (connection exception), 53 (insufficient resources) and
 * 57 (operator intervention: shutdown, cannot connect now) are 'Unavailable', the rest
 * 'Internal'. Errors without a server report are transport failures (refused or reset
 * connections, a terminated client), hence 'Unavailable'.
 */
export function translateSqlError(err: unknown, doing: string): StorageError {
  if (err instanceof StorageError) return err;
  const sqlState = serverSqlState(err);
  const unavailable = sqlState === undefined || /^(08|53|57)/.test(sqlState);
  const detail = err instanceof Error ? err.message : String(err);
  return new StorageError(unavailable ? 'Unavailable' : 'Internal', `${doing}: ${detail}`, undefined, { cause: err });
}

function serverSqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('severity' in err) || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}
