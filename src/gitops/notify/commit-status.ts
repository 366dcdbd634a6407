// Commit statuses of the revision an event names (its `revision` metadata, `BRANCH@sha1:SHA`):
// a Progressing event sets pending (the revision is being applied), a RolledBack one failure
// with "rolled back" in the description, any other Warning failure, any other Normal event
// success. The context (GitHub) or name (GitLab) is Flux's: kind/name/ and a hash of the
// Provider's uid, so two Providers on one repository keep their own statuses.
import { createHash } from 'node:crypto';
import type { NotificationEvent } from './event.ts';
import type { OutgoingRequest } from './request.ts';
import { repositoryPath, type Target } from './target.ts';

/** The event reasons with a state of their own (Sync's Progressing; RolledBack, of a rollback). */
export const PROGRESSING_REASON = 'Progressing';
export const ROLLED_BACK_REASON = 'RolledBack';

type State = 'pending' | 'success' | 'failure' | 'rolledBack';

/** GitHub's statuses API allows 140 characters of description. */
const MAX_DESCRIPTION = 140;

export function commitStatus(
  type: 'github' | 'gitlab',
  target: Target,
  event: NotificationEvent,
): OutgoingRequest | undefined {
  const sha = /(?:^|@)sha1:([0-9a-f]{40})$/.exec(event.metadata?.revision ?? '')?.[1];
  if (!sha) return undefined;
  const state: State =
    event.reason === PROGRESSING_REASON
      ? 'pending'
      : event.reason === ROLLED_BACK_REASON
        ? 'rolledBack'
        : event.severity === 'error'
          ? 'failure'
          : 'success';
  const said = state === 'rolledBack' ? `rolled back: ${event.message}` : event.message;
  const description = said.length > MAX_DESCRIPTION ? `${said.slice(0, MAX_DESCRIPTION - 1)}…` : said;
  const { kind = '', name = '' } = event.involvedObject;
  const hash = createHash('sha256').update(target.uid).digest('hex').slice(0, 10);
  const context = `${kind.toLowerCase()}/${name}/${hash}`;
  const repository = repositoryPath(target.address);
  const json = { ...target.headers, 'content-type': 'application/json' };
  if (type === 'github') {
    // github.com's API lives on api.github.com; GitHub Enterprise Server's under /api/v3 of its host.
    const { origin, host } = target.address;
    const base = host === 'github.com' ? 'https://api.github.com' : `${origin}/api/v3`;
    return {
      url: new URL(`${base}/repos/${repository}/statuses/${sha}`),
      headers: {
        ...json,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        authorization: `Bearer ${target.token ?? ''}`,
      },
      body: JSON.stringify({ state: state === 'rolledBack' ? 'failure' : state, context, description }),
    };
  }
  const gitlabState = state === 'failure' || state === 'rolledBack' ? 'failed' : state;
  return {
    url: new URL(`${target.address.origin}/api/v4/projects/${encodeURIComponent(repository)}/statuses/${sha}`),
    headers: { ...json, 'private-token': target.token ?? '' },
    body: JSON.stringify({ state: gitlabState, name: context, description }),
  };
}
