// Counters in SQL: one upsert statement per batch, atomic per row, so increments of many
// processes on one database add up. A row past its expiry counts as absent. Expired rows
// are deleted now and then; SKIP LOCKED keeps that sweep from waiting on (or deadlocking
// with) concurrent increments.
import { counterId, mergeIncrements } from '../counters.ts';
import type { CounterIncrement } from '../storage.ts';
import type { SqlQueryable } from './sql-client.ts';

export async function addCounters(
  client: SqlQueryable,
  increments: readonly CounterIncrement[],
  now: number,
): Promise<number[]> {
  if (increments.length === 0) return [];
  const { counters, positions } = mergeIncrements(increments);
  const params: unknown[] = [now];
  const rows = counters.map((c) => {
    params.push(c.key, c.window, c.delta, c.expiresAt);
    const n = params.length;
    return `($${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
  });
  const result = await client.query(
    `INSERT INTO gatehouse_counters AS c (key, window_start, value, expires_at) VALUES ${rows.join(', ')}
     ON CONFLICT (key, window_start) DO UPDATE SET
       value = CASE WHEN c.expires_at <= $1 THEN EXCLUDED.value ELSE c.value + EXCLUDED.value END,
       expires_at = CASE WHEN c.expires_at <= $1 THEN EXCLUDED.expires_at ELSE greatest(c.expires_at, EXCLUDED.expires_at) END
     RETURNING key, window_start, value`,
    params,
  );
  const totals = new Map(result.map((r) => [counterId(r.key as string, Number(r.window_start)), Number(r.value)]));
  const ordered = counters.map((c) => totals.get(counterId(c.key, c.window))!);
  return positions.map((i) => ordered[i]);
}

export async function deleteExpiredCounters(client: SqlQueryable, now: number): Promise<void> {
  await client.query(
    `DELETE FROM gatehouse_counters WHERE (key, window_start) IN (
       SELECT key, window_start FROM gatehouse_counters WHERE expires_at <= $1 LIMIT 10000 FOR UPDATE SKIP LOCKED)`,
    [now],
  );
}
