import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert, AlertSpec } from '../../api/kinds/alert/index.ts';
import { alertMatches, asSentBy } from './alerts.ts';
import type { NotificationEvent } from './event.ts';

const alert = (spec: Partial<AlertSpec>): Alert => ({
  apiVersion: 'gatehouse.dev/v1alpha1',
  kind: 'Alert',
  metadata: { name: 'a', namespace: 'team' },
  spec: {
    providerRef: { name: 'p' },
    eventSeverity: 'info',
    eventSources: [{ kind: 'Sync', name: '*' }],
    suspend: false,
    ...spec,
  },
});
const event = (over: Partial<NotificationEvent> = {}): NotificationEvent => ({
  involvedObject: { kind: 'Sync', name: 'apis', namespace: 'team' },
  severity: 'info',
  timestamp: '2026-01-01T00:00:00Z',
  message: 'applied revision main@sha1:abc',
  reason: 'ReconciliationSucceeded',
  reportingController: 'gatehouse-controller',
  ...over,
});
const noLabels = async () => ({});

describe('alertMatches', () => {
  it('error severity takes only Warnings; info takes both', async () => {
    assert.equal(await alertMatches(alert({ eventSeverity: 'error' }), event(), noLabels), false);
    assert.equal(await alertMatches(alert({ eventSeverity: 'error' }), event({ severity: 'error' }), noLabels), true);
    assert.equal(await alertMatches(alert({}), event({ severity: 'error' }), noLabels), true);
  });

  it('matches sources by kind, name or *, and namespace (the alert’s by default)', async () => {
    const sources = (eventSources: AlertSpec['eventSources']) =>
      alertMatches(alert({ eventSources }), event(), noLabels);
    assert.equal(await sources([{ kind: 'Sync', name: 'apis' }]), true);
    assert.equal(await sources([{ kind: 'Sync', name: 'other' }]), false);
    assert.equal(await sources([{ kind: 'GitRepository', name: '*' }]), false);
    assert.equal(await sources([{ kind: 'Sync', name: '*', namespace: 'prod' }]), false);
    assert.equal(await sources([{ kind: 'Sync', name: 'apis', namespace: 'team' }]), true);
  });

  it('narrows * by matchLabels, with the object’s labels', async () => {
    const labelled = alert({ eventSources: [{ kind: 'Sync', name: '*', matchLabels: { env: 'prod' } }] });
    assert.equal(await alertMatches(labelled, event(), async () => ({ env: 'prod', team: 'x' })), true);
    assert.equal(await alertMatches(labelled, event(), async () => ({ env: 'staging' })), false);
    assert.equal(await alertMatches(labelled, event(), async () => undefined), false);
  });

  it('filters messages by inclusionList and exclusionList', async () => {
    const include = alert({ inclusionList: ['^applied', 'failed'] });
    assert.equal(await alertMatches(include, event(), noLabels), true);
    assert.equal(await alertMatches(include, event({ message: 'applying revision x' }), noLabels), false);
    const exclude = alert({ exclusionList: ['main@sha1:abc$'] });
    assert.equal(await alertMatches(exclude, event(), noLabels), false);
    assert.equal(await alertMatches(exclude, event({ message: 'applied revision main@sha1:def' }), noLabels), true);
  });
});

describe('asSentBy', () => {
  it('adds summary and eventMetadata; the event’s own metadata wins', () => {
    const sent = asSentBy(
      alert({ summary: 'staging', eventMetadata: { cluster: 'eu-1', revision: 'not this' } }),
      event({ metadata: { revision: 'main@sha1:abc' } }),
    );
    assert.deepEqual(sent.metadata, { cluster: 'eu-1', summary: 'staging', revision: 'main@sha1:abc' });
  });
});
