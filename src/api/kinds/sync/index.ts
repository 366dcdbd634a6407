import { posix } from 'node:path';
import type { FieldError, KindDefinition, KubeObject } from '../../kind.ts';
import { positiveDuration } from '../../checks.ts';
import { ageColumn, column, readyColumn, statusMessageColumn } from '../../columns.ts';
import { invalid } from '../../schema/object-meta.ts';
import { syncSchema } from './schema.ts';
import type { Sync, SyncReference } from './types.ts';

const VARIABLE_NAME = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

function validate(obj: KubeObject): FieldError[] {
  const { spec } = obj as Sync;
  const errors = [
    ...positiveDuration('spec.interval', spec.interval),
    ...positiveDuration('spec.timeout', spec.timeout),
    ...positiveDuration('spec.rollback.window', spec.rollback?.window),
  ];
  const normalized = posix.normalize(spec.path);
  if (posix.isAbsolute(spec.path) || normalized === '..' || normalized.startsWith('../')) {
    errors.push(invalid('spec.path', spec.path, 'must be a relative path inside the artifact'));
  }
  for (const name of Object.keys(spec.substitute ?? {})) {
    if (!VARIABLE_NAME.test(name))
      errors.push(invalid('spec.substitute', name, `variable names must match '${VARIABLE_NAME.source}'`));
  }
  return [...errors, ...environmentErrors(obj as Sync)];
}

/** dependsOn and promotion.from name other Syncs, each once. */
function environmentErrors(sync: Sync): FieldError[] {
  const { dependsOn = [], promotion } = sync.spec;
  const namespace = sync.metadata.namespace ?? 'default';
  const keyOf = (ref: SyncReference) => `${ref.namespace ?? namespace}/${ref.name}`;
  const self = `${namespace}/${sync.metadata.name}`;
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  dependsOn.forEach((ref, i) => {
    const key = keyOf(ref);
    if (key === self) errors.push(invalid(`spec.dependsOn[${i}]`, key, 'must not name the Sync itself'));
    else if (seen.has(key)) errors.push(invalid(`spec.dependsOn[${i}]`, key, 'names a Sync already listed'));
    seen.add(key);
  });
  if (promotion && keyOf(promotion.from) === self)
    errors.push(invalid('spec.promotion.from', self, 'must not name the Sync itself'));
  return errors;
}

export const syncKind: KindDefinition = {
  group: 'gatehouse.dev',
  version: 'v1alpha1',
  kind: 'Sync',
  listKind: 'SyncList',
  plural: 'syncs',
  singular: 'sync',
  shortNames: ['sync'],
  categories: ['gatehouse'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  schema: syncSchema,
  description: syncSchema.description!,
  printerColumns: [
    column('Source', 'Kind/name of the source.', (o) => {
      const ref = (o as Sync).spec.sourceRef;
      return `${ref.kind ?? 'GitRepository'}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
    }),
    column('Path', 'Directory applied.', (o) => (o as Sync).spec.path ?? './'),
    column('Suspended', 'Whether applying is suspended (spec.suspend).', (o) => (o as Sync).spec.suspend === true, {
      type: 'boolean',
    }),
    readyColumn(),
    statusMessageColumn(),
    ageColumn(),
    column('Revision', 'Source revision last applied.', (o) => (o as Sync).status?.lastAppliedRevision ?? '', {
      wide: true,
    }),
  ],
  selectableFields: ['spec.sourceRef.name'],
  strategy: { validate },
};

export type * from './types.ts';
export * from './ownership.ts';
