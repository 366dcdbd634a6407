// Authenticates one webhook call against a Receiver's shared secret. Every comparison is
// constant-time over equal-length buffers, so response timing does not leak how much of a
// forged signature was right.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ReceiverType } from '../../api/kinds/receiver/index.ts';

export type Verdict = { ok: true } | { ok: false; reason: string };

/** Headers as node delivers them: lower-case names. */
export type Headers = Record<string, string | string[] | undefined>;

export function verifyCall(type: ReceiverType, secret: string, headers: Headers, body: Buffer): Verdict {
  switch (type) {
    case 'github':
      // GitHub signs the raw body with HMAC-SHA256 and sends "sha256=<hex>".
      return checkHmac(secret, body, header(headers, 'x-hub-signature-256'), 'X-Hub-Signature-256');
    case 'generic-hmac':
      return checkHmac(secret, body, header(headers, 'x-signature'), 'X-Signature');
    case 'gitlab': {
      // GitLab sends the configured token itself.
      const token = header(headers, 'x-gitlab-token');
      if (token === undefined) return { ok: false, reason: 'X-Gitlab-Token header missing' };
      return equal(Buffer.from(token), Buffer.from(secret))
        ? { ok: true }
        : { ok: false, reason: 'X-Gitlab-Token does not match' };
    }
  }
}

/** The event name the Git host sent, for Receiver spec.events filtering. */
export function eventName(type: ReceiverType, headers: Headers): string | undefined {
  if (type === 'github') return header(headers, 'x-github-event');
  if (type === 'gitlab') return header(headers, 'x-gitlab-event');
  return header(headers, 'x-event');
}

function checkHmac(secret: string, body: Buffer, presented: string | undefined, name: string): Verdict {
  if (presented === undefined) return { ok: false, reason: `${name} header missing` };
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(presented);
  if (!match) return { ok: false, reason: `${name} is not "sha256=<hex>"` };
  const expected = createHmac('sha256', secret).update(body).digest();
  return equal(Buffer.from(match[1], 'hex'), expected)
    ? { ok: true }
    : { ok: false, reason: `${name} does not match the body` };
}

function equal(a: Buffer, b: Buffer): boolean {
  // timingSafeEqual needs equal lengths; comparing digests keeps the length secret too.
  const da = createHmac('sha256', 'gatehouse-compare').update(a).digest();
  const db = createHmac('sha256', 'gatehouse-compare').update(b).digest();
  return timingSafeEqual(da, db);
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
