import type { ObjectKey, StoredObject, WatchEvent, WatchEventType } from '../storage.ts';
import type { SqlRow } from './sql-client.ts';

/** Columns of gatehouse_objects or gatehouse_log a read returns, as a StoredObject. */
export function toStoredObject(resource: string, row: SqlRow): StoredObject {
  return {
    key: { resource, namespace: String(row.namespace), name: String(row.name) },
    value: String(row.value),
    revision: Number(row.revision),
    createRevision: Number(row.create_revision),
  };
}

/** A gatehouse_log row as the event it records. Deletes store no prev_value: the value
 * before a delete is the value the delete reports. */
export function toWatchEvent(row: SqlRow): WatchEvent {
  const type = row.type as WatchEventType;
  const key: ObjectKey = { resource: String(row.resource), namespace: String(row.namespace), name: String(row.name) };
  const value = String(row.value);
  const prevValue = type === 'DELETED' ? value : row.prev_value === null ? undefined : String(row.prev_value);
  return { type, key, value, revision: Number(row.revision), ...(prevValue === undefined ? {} : { prevValue }) };
}

export const LOG_EVENT_COLUMNS = 'revision, resource, namespace, name, type, value, prev_value';
