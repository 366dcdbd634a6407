// The HTTP request a notification is, per Provider type. Each format is Flux's, so receivers
// written for Flux's notification-controller accept Gatehouse's.
import { createHmac } from 'node:crypto';
import type { ProviderType } from '../../api/kinds/provider/index.ts';
import { chatMessage } from './chat.ts';
import { commitStatus } from './commit-status.ts';
import type { NotificationEvent } from './event.ts';
import type { Target } from './target.ts';

export interface OutgoingRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** The request that sends `event` to `target`; undefined when the event is nothing for it to show (a commit
 * status needs the revision an event names). */
export function requestFor(target: Target, event: NotificationEvent): OutgoingRequest | undefined {
  const type: ProviderType = target.type;
  switch (type) {
    case 'generic':
      return post(target, JSON.stringify(event));
    case 'generic-hmac': {
      // Flux's signature: the HMAC-SHA256 of the exact body under the token, hex, in X-Signature.
      const body = JSON.stringify(event);
      const signature = createHmac('sha256', target.token ?? '')
        .update(body)
        .digest('hex');
      return post(target, body, { 'x-signature': `sha256=${signature}` });
    }
    case 'slack':
    case 'msteams': {
      const auth: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {};
      return post(target, JSON.stringify(chatMessage(type, target, event)), auth);
    }
    case 'github':
    case 'gitlab':
      return commitStatus(type, target, event);
  }
}

function post(target: Target, body: string, headers: Record<string, string> = {}): OutgoingRequest {
  return { url: target.address, headers: { ...target.headers, ...JSON_TYPE, ...headers }, body };
}
