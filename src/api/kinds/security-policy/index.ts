import type { FieldError, KindDefinition, KubeObject } from '../../kind.ts';
import { positiveDuration } from '../../checks.ts';
import { ageColumn, column, readyColumn } from '../../columns.ts';
import { securityPolicySchema } from './schema.ts';
import type { SecurityPolicy } from './types.ts';

function validate(obj: KubeObject): FieldError[] {
  const { spec } = obj as SecurityPolicy;
  return [
    ...positiveDuration('spec.rateLimit.per', spec.rateLimit?.per),
    ...positiveDuration('spec.quota.per', spec.quota?.per),
  ];
}

const spec = (obj: KubeObject) => (obj as SecurityPolicy).spec;

export const securityPolicyKind: KindDefinition = {
  group: 'gatehouse.dev',
  version: 'v1alpha1',
  kind: 'SecurityPolicy',
  listKind: 'SecurityPolicyList',
  plural: 'securitypolicies',
  singular: 'securitypolicy',
  shortNames: ['policy'],
  categories: ['gatehouse'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  schema: securityPolicySchema,
  description: securityPolicySchema.description!,
  printerColumns: [
    column('APIs', 'Names of the APIs granted.', (o) => (spec(o).apis ?? []).map((a) => a.name).join(',')),
    column('Rate Limit', 'Requests per window per consumer.', (o) => {
      const r = spec(o).rateLimit;
      return r ? `${r.requests}/${r.per}` : '';
    }),
    column('Quota', 'Requests per quota period per consumer.', (o) => {
      const q = spec(o).quota;
      return q ? `${q.max}/${q.per}` : '';
    }),
    readyColumn(),
    ageColumn(),
  ],
  strategy: { validate },
};

export type * from './types.ts';
