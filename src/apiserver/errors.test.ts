import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { StorageError } from '../storage/storage.ts';
import { errors, fromStorageError, STATUS_CODES } from './errors.ts';

test('every status reason is documented in docs/errors.md with its code', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [reason, code] of Object.entries(STATUS_CODES)) {
    assert.match(
      doc,
      new RegExp(`\\| \`${reason}\` \\| ${code} \\|`),
      `${reason} (${code}) is missing from docs/errors.md`,
    );
  }
});

test('storage errors become Statuses that name the object', () => {
  const ref = { group: 'gatehouse.dev', resource: 'apidefinitions' };
  const conflict = fromStorageError(new StorageError('Conflict', 'revision moved'), ref, 'shop').toStatus();
  assert.equal(conflict.reason, 'Conflict');
  assert.equal(conflict.code, 409);
  assert.match(conflict.message, /apidefinitions\.gatehouse\.dev "shop": the object has been modified/);
  assert.equal(
    fromStorageError(new StorageError('NotFound', 'x'), ref, 'shop').toStatus().message,
    'apidefinitions.gatehouse.dev "shop" not found',
  );
  assert.equal(fromStorageError(new StorageError('Unavailable', 'down'), ref, 'shop').code, 503);
  assert.equal(fromStorageError(new Error('boom'), ref, 'shop').reason, 'InternalError');
});

test('validation errors carry one cause per field', () => {
  const status = errors
    .invalid({ group: 'gatehouse.dev', resource: 'apidefinitions' }, 'ApiDefinition', 'shop', [
      { type: 'FieldValueRequired', field: 'spec.listenPath', message: 'Required value' },
      {
        type: 'FieldValueInvalid',
        field: 'spec.upstream.targets[0].url',
        message: 'Invalid value: "ftp://x": must be http or https',
      },
    ])
    .toStatus();
  assert.equal(status.code, 422);
  assert.equal(
    status.message,
    'ApiDefinition.gatehouse.dev "shop" is invalid: [spec.listenPath: Required value, spec.upstream.targets[0].url: Invalid value: "ftp://x": must be http or https]',
  );
  assert.deepEqual(
    status.details?.causes?.map((c) => c.field),
    ['spec.listenPath', 'spec.upstream.targets[0].url'],
  );
});
