import type { FieldError, KindDefinition, KubeObject } from '../../kind.ts';
import { headerNames, httpUrl, positiveDuration } from '../../checks.ts';
import { ageColumn, column, readyColumn } from '../../columns.ts';
import { forbidden, required } from '../../schema/object-meta.ts';
import { apiDefinitionSchema } from './schema.ts';
import type { ApiDefinition, HeaderModifier } from './types.ts';

function headerModifierErrors(field: string, modifier: HeaderModifier | undefined): FieldError[] {
  if (!modifier) return [];
  return [
    ...headerNames(`${field}.set`, Object.keys(modifier.set ?? {})),
    ...headerNames(`${field}.remove`, modifier.remove ?? []),
  ];
}

function validate(obj: KubeObject): FieldError[] {
  const { spec } = obj as ApiDefinition;
  const errors: FieldError[] = [];
  for (const [i, t] of spec.upstream.targets.entries())
    errors.push(...httpUrl(`spec.upstream.targets[${i}].url`, t.url));
  if (spec.auth.type === 'jwt') {
    const jwt = spec.auth.jwt;
    if (!jwt) errors.push(required('spec.auth.jwt', 'required when spec.auth.type is jwt'));
    else if (jwt.jwksUri === undefined && jwt.jwks === undefined)
      errors.push(required('spec.auth.jwt', 'one of jwksUri or jwks is required'));
    else if (jwt.jwksUri !== undefined && jwt.jwks !== undefined)
      errors.push(forbidden('spec.auth.jwt.jwks', 'may not be set together with jwksUri'));
  }
  if (spec.auth.jwt?.jwksUri !== undefined) errors.push(...httpUrl('spec.auth.jwt.jwksUri', spec.auth.jwt.jwksUri));
  if (spec.auth.apiKey) errors.push(...headerNames('spec.auth.apiKey.header', [spec.auth.apiKey.header]));
  errors.push(...positiveDuration('spec.rateLimit.per', spec.rateLimit?.per));
  errors.push(...positiveDuration('spec.upstream.timeout', spec.upstream.timeout));
  errors.push(...positiveDuration('spec.upstream.connectTimeout', spec.upstream.connectTimeout));
  errors.push(...positiveDuration('spec.upstream.healthCheck.interval', spec.upstream.healthCheck?.interval));
  errors.push(...positiveDuration('spec.upstream.healthCheck.timeout', spec.upstream.healthCheck?.timeout));
  errors.push(...headerModifierErrors('spec.requestHeaders', spec.requestHeaders));
  errors.push(...headerModifierErrors('spec.responseHeaders', spec.responseHeaders));
  return errors;
}

const spec = (obj: KubeObject) => (obj as ApiDefinition).spec;

export const apiDefinitionKind: KindDefinition = {
  group: 'gatehouse.dev',
  version: 'v1alpha1',
  kind: 'ApiDefinition',
  listKind: 'ApiDefinitionList',
  plural: 'apidefinitions',
  singular: 'apidefinition',
  shortNames: ['api', 'apis'],
  categories: ['gatehouse'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  schema: apiDefinitionSchema,
  description: apiDefinitionSchema.description!,
  printerColumns: [
    column('Listen Path', 'Path prefix the API is served under.', (o) => spec(o).listenPath),
    column('Upstream', 'URL of the first upstream target.', (o) => spec(o).upstream?.targets?.[0]?.url ?? ''),
    column('Auth', 'Authentication method.', (o) => spec(o).auth?.type ?? 'keyless'),
    readyColumn(),
    ageColumn(),
    column('Hosts', 'Host names the API answers on.', (o) => (spec(o).hosts ?? []).join(','), { wide: true }),
    column('Visibility', 'public or internal.', (o) => spec(o).visibility ?? 'public', { wide: true }),
  ],
  selectableFields: ['spec.listenPath'],
  strategy: { validate },
};

export type * from './types.ts';
export { DEFAULT_API_KEY_HEADER } from './types.ts';
