import type { JSONSchema } from '../../kind.ts';
import {
  boolean,
  dateTime,
  duration,
  enumeration,
  localObjectReference,
  object,
  specAndStatus,
  statusSchema,
  string,
} from '../../schema/build.ts';

/** The signature spec.verify verified; the Sync's history repeats it for the revision it applied. */
export function artifactSignatureSchema(description: string): JSONSchema {
  return object(
    description,
    {
      of: enumeration('What was signed.', ['commit', 'tag']),
      type: enumeration('Signature format.', ['openpgp', 'ssh']),
      key: string('OpenPGP fingerprint, or "SHA256:…" of the SSH key.'),
      signer: string("The key's user id (OpenPGP) or principal (SSH allowed signers)."),
    },
    { required: ['of', 'type', 'key'] },
  );
}

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
      verify: object(
        "Signature verification (Flux's field): a revision whose signatures do not verify is not stored.",
        {
          mode: enumeration(
            'HEAD: the commit must be signed; Tag: the annotated tag of spec.ref; TagAndHEAD: both.',
            ['HEAD', 'Tag', 'TagAndHEAD'],
            'HEAD',
          ),
          secretRef: localObjectReference(
            'Secret with the trusted keys: OpenPGP public keys under keys ending in .asc; SSH public keys ' +
              'under keys ending in .pub (the principal is the key name without .pub) or an allowed_signers key ' +
              "in git's allowed-signers format.",
          ),
        },
        { required: ['secretRef'] },
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
        author: string("The commit's author, as 'Name <email>'."),
        subject: string("The commit's subject: the first line of its message."),
        signature: artifactSignatureSchema(
          "The verified signature (with spec.verify): the commit's, or the tag's in Tag mode.",
        ),
      },
      { required: ['revision'] },
    ),
  }),
);
