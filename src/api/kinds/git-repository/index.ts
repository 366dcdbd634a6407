import type { FieldError, KindDefinition, KubeObject } from '../../kind.ts';
import { positiveDuration } from '../../checks.ts';
import { ageColumn, column, readyColumn, statusMessageColumn } from '../../columns.ts';
import { invalid } from '../../schema/object-meta.ts';
import { gitRepositorySchema } from './schema.ts';
import type { GitRepository } from './types.ts';

function validate(obj: KubeObject): FieldError[] {
  const { spec } = obj as GitRepository;
  const errors = [
    ...positiveDuration('spec.interval', spec.interval),
    ...positiveDuration('spec.timeout', spec.timeout),
  ];
  // Credentials belong in the Secret: a URL with them would leak into status and logs.
  if (/^[a-z]+:\/\/[^/@]*:[^/@]*@/.test(spec.url))
    errors.push(
      invalid('spec.url', spec.url.replace(/:[^/@:]*@/, ':***@'), 'must not contain a password; use spec.secretRef'),
    );
  // A tag's signature needs a tag: a branch or a pinned commit has none.
  const mode = spec.verify?.mode;
  if (mode && mode !== 'HEAD' && (spec.ref?.commit || !(spec.ref?.tag || spec.ref?.semver)))
    errors.push(invalid('spec.verify.mode', mode, 'needs spec.ref.tag or spec.ref.semver (and no spec.ref.commit)'));
  return errors;
}

export const gitRepositoryKind: KindDefinition = {
  group: 'gatehouse.dev',
  version: 'v1alpha1',
  kind: 'GitRepository',
  listKind: 'GitRepositoryList',
  plural: 'gitrepositories',
  singular: 'gitrepository',
  shortNames: ['gitrepo'],
  categories: ['gatehouse'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  schema: gitRepositorySchema,
  description: gitRepositorySchema.description!,
  printerColumns: [
    column('URL', 'Repository URL.', (o) => (o as GitRepository).spec.url),
    readyColumn(),
    statusMessageColumn(),
    ageColumn(),
    column('Revision', 'Revision of the last artifact.', (o) => (o as GitRepository).status?.artifact?.revision ?? '', {
      wide: true,
    }),
  ],
  strategy: { validate },
};

export type * from './types.ts';
