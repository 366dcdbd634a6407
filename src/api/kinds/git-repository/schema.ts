import type { JSONSchema } from '../../kind.ts';
import {
  boolean,
  dateTime,
  duration,
  localObjectReference,
  object,
  specAndStatus,
  statusSchema,
  string,
} from '../../schema/build.ts';

export const gitRepositorySchema: JSONSchema = specAndStatus(
  'GitRepository is a Git source (Flux field names): the controller fetches the ref every interval and records the revision as an artifact.',
  object(
    'Where and how often to fetch.',
    {
      url: string('Repository URL: https://, http://, ssh://, scp-like user@host:path, or file://.', {
        pattern: '^((https?|ssh|file)://.+|[A-Za-z0-9._-]+@[^:/]+:.+)$',
      }),
      ref: object(
        "Revision to check out; commit wins over semver, semver over tag, tag over branch. Absent follows the remote's default branch.",
        {
          branch: string('Branch to follow.'),
          tag: string('Tag to check out.'),
          semver: string('SemVer range; the highest matching tag is checked out.'),
          commit: string('Commit SHA to check out; with branch, the commit must be on it.'),
        },
      ),
      secretRef: localObjectReference(
        'Secret with credentials, Flux keys: identity and known_hosts for ssh; username and password, or bearerToken, for https; ca.crt for a private CA.',
      ),
      interval: duration('How often to check the remote for new revisions.', '1m'),
      timeout: duration('Time allowed for one Git operation.', '60s'),
      suspend: boolean('Stops fetching while true.', false),
    },
    { required: ['url'] },
  ),
  statusSchema('Observed state of the source.', {
    artifact: object(
      'The last revision fetched.',
      {
        revision: string('Ref and commit, as "main@sha1:<sha>".'),
        digest: string('"sha256:<hex>" of the artifact content.'),
        path: string("Where the artifact is kept, relative to the controller's storage."),
        lastUpdateTime: dateTime('When the artifact last changed.'),
      },
      { required: ['revision'] },
    ),
  }),
);
