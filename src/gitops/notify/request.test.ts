import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { NotificationEvent } from './event.ts';
import { requestFor } from './request.ts';
import type { Target } from './target.ts';

const SHA = 'a'.repeat(40);
const target = (over: Partial<Target>): Target => ({
  type: 'generic',
  address: new URL('https://hooks.example/x'),
  headers: {},
  uid: 'uid-1',
  timeout: '15s',
  ...over,
});
const event = (over: Partial<NotificationEvent> = {}): NotificationEvent => ({
  involvedObject: { kind: 'Sync', name: 'apis', namespace: 'default' },
  severity: 'info',
  timestamp: '2026-01-01T00:00:00Z',
  message: `applied revision main@sha1:${SHA}`,
  reason: 'ReconciliationSucceeded',
  metadata: { revision: `main@sha1:${SHA}` },
  reportingController: 'gatehouse-controller',
  ...over,
});
const body = (t: Target, e: NotificationEvent) => JSON.parse(requestFor(t, e)!.body);

describe('requestFor', () => {
  it('generic: the event as JSON with the Secret’s headers; generic-hmac signs the exact body', () => {
    const plain = requestFor(target({ headers: { 'x-team': 'apis' } }), event())!;
    assert.deepEqual(JSON.parse(plain.body), event());
    assert.equal(plain.headers['x-team'], 'apis');
    const signed = requestFor(target({ type: 'generic-hmac', token: 'key' }), event())!;
    const hex = createHmac('sha256', 'key').update(signed.body).digest('hex');
    assert.equal(signed.headers['x-signature'], `sha256=${hex}`);
  });

  it('msteams: an Adaptive Card, red text for errors, summary first among the facts', () => {
    const card = body(
      target({ type: 'msteams' }),
      event({ severity: 'error', metadata: { summary: 'prod', cluster: 'eu', revision: 'r' } }),
    );
    const [container] = card.attachments[0].content.body;
    const [title, text, facts] = container.items;
    assert.equal(title.text, 'sync/apis.default');
    assert.equal(text.color, 'attention');
    assert.deepEqual(
      facts.facts.map((f: { title: string }) => f.title),
      ['summary', 'cluster', 'revision'],
    );
  });

  it('github: pending for Progressing, failure for RolledBack and Warnings, success otherwise', () => {
    const github = target({ type: 'github', address: new URL('https://github.com/acme/apis.git'), token: 't' });
    const req = requestFor(github, event({ reason: 'Progressing' }))!;
    assert.equal(req.url.href, `https://api.github.com/repos/acme/apis/statuses/${SHA}`);
    assert.equal(req.headers.authorization, 'Bearer t');
    assert.equal(JSON.parse(req.body).state, 'pending');
    assert.equal(body(github, event()).state, 'success');
    assert.equal(body(github, event({ severity: 'error', reason: 'ValidationFailed' })).state, 'failure');
    const rolledBack = body(github, event({ severity: 'error', reason: 'RolledBack', message: 'upstream down' }));
    assert.deepEqual([rolledBack.state, rolledBack.description], ['failure', 'rolled back: upstream down']);
    assert.equal(body(github, event({ message: 'x'.repeat(200) })).description.length, 140);
  });

  it('gitlab: the project path encoded, PRIVATE-TOKEN, failed for failures', () => {
    const gitlab = target({ type: 'gitlab', address: new URL('https://gitlab.example/group/sub/project'), token: 't' });
    const req = requestFor(gitlab, event({ severity: 'error', reason: 'ApplyFailed' }))!;
    assert.equal(req.url.href, `https://gitlab.example/api/v4/projects/group%2Fsub%2Fproject/statuses/${SHA}`);
    assert.equal(req.headers['private-token'], 't');
    assert.equal(JSON.parse(req.body).state, 'failed');
    assert.match(JSON.parse(req.body).name, /^sync\/apis\/[0-9a-f]{10}$/);
  });

  it('sets no commit status for an event without a revision', () => {
    const github = target({ type: 'github', address: new URL('https://github.com/acme/apis'), token: 't' });
    assert.equal(requestFor(github, event({ metadata: undefined })), undefined);
  });
});
