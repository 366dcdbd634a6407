// Slack- and Microsoft Teams-compatible messages, shaped as Flux's notification-controller
// sends them: a Slack attachment (green or red, the object as author, metadata as fields) and a
// Teams Adaptive Card (the object, the message, metadata as facts with summary first).
import type { NotificationEvent } from './event.ts';
import { objectName } from './event.ts';
import type { Target } from './target.ts';

export function chatMessage(type: 'slack' | 'msteams', target: Target, event: NotificationEvent): unknown {
  return type === 'slack' ? slackMessage(target, event) : teamsMessage(event);
}

function slackMessage(target: Target, event: NotificationEvent): unknown {
  return {
    ...(target.channel ? { channel: target.channel } : {}),
    username: target.username ?? event.reportingController,
    attachments: [
      {
        color: event.severity === 'error' ? 'danger' : 'good',
        author_name: objectName(event),
        text: event.message,
        mrkdwn_in: ['text'],
        fields: Object.entries(event.metadata ?? {}).map(([title, value]) => ({ title, value, short: false })),
      },
    ],
  };
}

function teamsMessage(event: NotificationEvent): unknown {
  const { summary, ...rest } = event.metadata ?? {};
  const facts = [
    ...(summary === undefined ? [] : [{ title: 'summary', value: summary }]),
    ...Object.entries(rest)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([title, value]) => ({ title, value })),
  ];
  const text = {
    type: 'TextBlock',
    text: event.message,
    wrap: true,
    ...(event.severity === 'error' ? { color: 'attention' } : {}),
  };
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body: [
            {
              type: 'Container',
              items: [
                { type: 'TextBlock', text: objectName(event), size: 'large', weight: 'bolder', wrap: true },
                text,
                { type: 'FactSet', facts },
              ],
            },
          ],
        },
      },
    ],
  };
}
