import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition } from '../api/status.ts';
import { circuitEvent, readyEvent } from './api-events.ts';
import { INACTIVE, leftOut, type ApiOutcome } from './api-outcome.ts';

const served: ApiOutcome = {
  reason: 'Served',
  listeners: ['public', 'internal'],
  message: 'served on the public and internal listeners at /shop',
};
const ready = (status: Condition['status'], reason: string, message: string): Condition => ({
  type: 'Ready',
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});
const wasServed = ready('True', 'Served', served.message);

describe('readyEvent', () => {
  it('tells nothing of an API served as asked, new or not', () => {
    assert.equal(readyEvent(undefined, served), undefined);
    assert.equal(readyEvent(ready('True', 'Served', 'served on the public listener at /shop'), served), undefined);
  });

  it('tells why an API is not served, once per reason and message, as a Warning unless it was asked for', () => {
    const missing = leftOut('Secret default/users named in spec.auth.basic.secretRef does not exist');
    const warning = { type: 'Warning', reason: 'NotServed', message: missing.message };
    assert.deepEqual(readyEvent(undefined, missing), warning);
    assert.deepEqual(readyEvent(wasServed, missing), warning);
    const wasMissing = ready('False', 'Invalid', missing.message);
    assert.equal(readyEvent(wasMissing, missing), undefined, 'the same again is no news');
    const other = leftOut('Secret default/admins named in spec.auth.basic.secretRef does not exist');
    assert.equal(readyEvent(wasMissing, other)?.message, other.message, 'another cause is');
    const asked = { type: 'Normal', reason: 'NotServed', message: INACTIVE.message };
    assert.deepEqual(readyEvent(wasServed, INACTIVE), asked);
  });

  it('tells an API served again', () => {
    const wasInactive = ready('False', 'Inactive', INACTIVE.message);
    assert.deepEqual(readyEvent(wasInactive, served), { type: 'Normal', reason: 'Served', message: served.message });
  });
});

describe('circuitEvent', () => {
  it('tells a circuit opening and closing, not the trials in between', () => {
    assert.equal(circuitEvent('http://a', 'open')?.reason, 'CircuitOpened');
    assert.equal(circuitEvent('http://a', 'closed')?.reason, 'CircuitClosed');
    assert.equal(circuitEvent('http://a', 'half-open'), undefined);
  });
});
