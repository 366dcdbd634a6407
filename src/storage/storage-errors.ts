// The StorageErrors every driver raises the same way, so messages read alike.
import { StorageError } from './storage.ts';
import type { ObjectKey } from './storage.ts';

/** `resource namespace/name`, or `resource name` when cluster-scoped. */
export function describeKey(key: ObjectKey): string {
  return `${key.resource} ${key.namespace ? `${key.namespace}/` : ''}${key.name}`;
}

export function notFound(key: ObjectKey): StorageError {
  return new StorageError('NotFound', `${describeKey(key)} not found`, key);
}

export function alreadyExists(key: ObjectKey): StorageError {
  return new StorageError('AlreadyExists', `${describeKey(key)} already exists`, key);
}

export function storageClosed(): StorageError {
  return new StorageError('Unavailable', 'storage is closed');
}

export function conflict(key: ObjectKey, expected: number, actual: number): StorageError {
  return new StorageError('Conflict', `${describeKey(key)} is at revision ${actual}, not ${expected}`, key);
}

export function expired(resource: string, revision: number, compacted: number): StorageError {
  return new StorageError(
    'Expired',
    `revision ${revision} of ${resource} is compacted (oldest available is ${compacted})`,
  );
}
