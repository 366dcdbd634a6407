import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { GATEWAY_ERROR_STATUS } from './errors.ts';

test('every gateway error code is documented in docs/errors.md with its status', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, status] of Object.entries(GATEWAY_ERROR_STATUS)) {
    assert.match(
      doc,
      new RegExp(`\\| \`${code}\` \\| ${status} \\|`),
      `${code} (${status}) is missing from docs/errors.md`,
    );
  }
});
