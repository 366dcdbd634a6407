// Rollback of a Sync: which revision of status.history a rollback call names, and which revision a reconcile
// applies while a rollback is in force. A rollback holds the Sync on an earlier revision until its source
// moves past the revision it held back (any other source revision is newer: Git has no order a controller
// could trust across force pushes) or someone resumes it. Revisions are re-applied from their artifact,
// made again from Git by sha and checked against the digest the history recorded.
import type { RollbackBody } from '../../api/kinds/subresource-request/index.ts';
import type { Sync, SyncHistoryEntry, SyncRollback } from '../../api/kinds/sync/index.ts';
import { SubresourceRefusal } from '../../controller/runtime/index.ts';

/** Entries whose revision applied and can be applied again: the first applies and earlier rollbacks. */
function appliedEntries(history: SyncHistoryEntry[]): SyncHistoryEntry[] {
  return history.filter((e) => e.status === 'Succeeded' || e.status === 'RolledBack');
}

/** The revision the Sync applies now: the one a rollback holds it on, else the last one applied. */
export function currentRevision(sync: Sync): string | undefined {
  return sync.status?.rolledBackTo?.revision ?? sync.status?.lastAppliedRevision;
}

/**
 * The history entry `body` names, or a refusal naming the field: `revision` must be a revision the Sync
 * applied (NotFound otherwise, Invalid when it only failed or is the one applied now); `steps` counts the
 * distinct revisions applied before the current one, newest first, from its first apply on (re-applies by
 * earlier rollbacks do not count as steps), and may not go beyond status.history (Invalid).
 */
export function rollbackTarget(sync: Sync, body: RollbackBody): SyncHistoryEntry {
  const what = `Sync ${sync.metadata.namespace}/${sync.metadata.name}`;
  const history = sync.status?.history ?? [];
  const current = currentRevision(sync);
  if (body.revision !== undefined) {
    const entry = appliedEntries(history).find((e) => e.revision === body.revision);
    if (!entry) {
      const failed = history.find((e) => e.revision === body.revision);
      if (failed)
        throw new SubresourceRefusal(
          'Invalid',
          `${what}: revision: ${body.revision} never applied successfully (${failed.message ?? 'failed'}); ` +
            'only a revision that applied can be rolled back to',
        );
      throw new SubresourceRefusal(
        'NotFound',
        `${what}: revision: ${body.revision} is not in status.history (the last ${history.length} applies)`,
      );
    }
    if (entry.revision === current)
      throw new SubresourceRefusal('Invalid', `${what}: revision: ${body.revision} is the revision applied now`);
    return entry;
  }
  const steps = body.steps ?? 1;
  const firstApply = history.findIndex((e) => e.status === 'Succeeded' && e.revision === current);
  const earlier: SyncHistoryEntry[] = [];
  for (const entry of appliedEntries(history.slice(firstApply + 1))) {
    if (entry.revision !== current && !earlier.some((e) => e.revision === entry.revision)) earlier.push(entry);
  }
  if (steps > earlier.length)
    throw new SubresourceRefusal(
      'Invalid',
      `${what}: steps: ${steps} goes beyond status.history, which holds ${earlier.length} revision` +
        `${earlier.length === 1 ? '' : 's'} applied before ${current ?? 'the current one (none applied yet)'}`,
    );
  return earlier[steps - 1];
}

/** The last revision before `failed` that applied and stayed healthy: what an automatic rollback re-applies. */
export function lastHealthy(history: SyncHistoryEntry[], failed: string): SyncHistoryEntry | undefined {
  return appliedEntries(history).find((e) => e.revision !== failed);
}

/** Whether `rollback` still holds with the source at `sourceRevision`. */
export function holds(rollback: SyncRollback | undefined, sourceRevision: string): rollback is SyncRollback {
  return rollback?.from === sourceRevision;
}

/** The Ready message of a Sync held by `rollback`, as `gatehouse get syncs` prints it. */
export function describeRollback(rollback: SyncRollback, name: string): string {
  const how = rollback.automatic ? 'rolled back automatically' : `rolled back by ${rollback.by}`;
  return (
    `${how} to ${rollback.revision} from ${rollback.from}: ${rollback.reason}; held until a newer revision ` +
    `or 'gatehouse resume sync ${name}'`
  );
}
