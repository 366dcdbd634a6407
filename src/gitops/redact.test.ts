import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from './redact.ts';

test('remembered values and their lines never come out of redact', () => {
  const r = new Redactor();
  r.remember('-----BEGIN KEY-----\nAAAAsecretline\n-----END KEY-----\n');
  r.remember('hunter22');
  r.remember('ab');
  assert.equal(r.redact('auth failed for hunter22'), 'auth failed for ***');
  assert.equal(r.redact('bad line AAAAsecretline here'), 'bad line *** here');
  assert.equal(r.redact('-----BEGIN KEY-----\nAAAAsecretline\n-----END KEY-----'), '***');
  assert.equal(r.redact('ab is too short to be a secret'), 'ab is too short to be a secret');
});
