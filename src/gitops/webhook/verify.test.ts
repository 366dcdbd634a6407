import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { eventName, verifyCall } from './verify.ts';

const body = Buffer.from('{"ref":"refs/heads/main"}');
const sign = (secret: string, data: Buffer) => `sha256=${createHmac('sha256', secret).update(data).digest('hex')}`;

test('github: the HMAC of the raw body is accepted; another body, secret or format is not', () => {
  assert.deepEqual(verifyCall('github', 's3cret', { 'x-hub-signature-256': sign('s3cret', body) }, body), { ok: true });
  assert.equal(
    verifyCall('github', 's3cret', { 'x-hub-signature-256': sign('s3cret', Buffer.from('{}')) }, body).ok,
    false,
  );
  assert.equal(verifyCall('github', 's3cret', { 'x-hub-signature-256': sign('other', body) }, body).ok, false);
  assert.deepEqual(verifyCall('github', 's3cret', { 'x-hub-signature-256': 'sha1=abc' }, body), {
    ok: false,
    reason: 'X-Hub-Signature-256 is not "sha256=<hex>"',
  });
  assert.deepEqual(verifyCall('github', 's3cret', {}, body), {
    ok: false,
    reason: 'X-Hub-Signature-256 header missing',
  });
});

test('generic-hmac reads X-Signature; gitlab compares the token', () => {
  assert.deepEqual(verifyCall('generic-hmac', 'k', { 'x-signature': sign('k', body) }, body), { ok: true });
  assert.equal(verifyCall('generic-hmac', 'k', { 'x-hub-signature-256': sign('k', body) }, body).ok, false);
  assert.deepEqual(verifyCall('gitlab', 'tok', { 'x-gitlab-token': 'tok' }, body), { ok: true });
  assert.equal(verifyCall('gitlab', 'tok', { 'x-gitlab-token': 'tok2' }, body).ok, false);
  assert.equal(verifyCall('gitlab', 'tok', { 'x-gitlab-token': '' }, body).ok, false);
  assert.equal(verifyCall('gitlab', 'tok', {}, body).ok, false);
});

test('event names come from the host-specific header', () => {
  assert.equal(eventName('github', { 'x-github-event': 'push' }), 'push');
  assert.equal(eventName('gitlab', { 'x-gitlab-event': 'Push Hook' }), 'Push Hook');
  assert.equal(eventName('generic-hmac', {}), undefined);
});
