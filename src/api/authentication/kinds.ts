// The kinds of authentication.k8s.io/v1: created, answered in their status, never stored. A TokenReview
// needs its token (kube's REST refuses one without); a SelfSubjectReview asks nothing but who is asking.
import type { KindDefinition } from '../kind.ts';
import { required } from '../schema/object-meta.ts';
import { selfSubjectReviewSchema, tokenReviewSchema } from './schema.ts';
import { AUTHENTICATION_GROUP, type TokenReview } from './types.ts';

const reviewOf = (kind: string, schema: KindDefinition['schema']) => ({
  builtIn: true,
  createOnly: true,
  group: AUTHENTICATION_GROUP,
  version: 'v1',
  kind,
  listKind: `${kind}List`,
  plural: `${kind.toLowerCase()}s`,
  singular: kind.toLowerCase(),
  shortNames: [],
  categories: [],
  namespaced: false,
  statusSubresource: false,
  generation: false,
  schema,
  description: schema.description!,
  printerColumns: [],
});

export const tokenReviewKind: KindDefinition = {
  ...reviewOf('TokenReview', tokenReviewSchema),
  strategy: {
    validate: (obj) => ((obj as TokenReview).spec.token ? [] : [required('spec.token', 'the token to review')]),
  },
};

export const selfSubjectReviewKind: KindDefinition = {
  ...reviewOf('SelfSubjectReview', selfSubjectReviewSchema),
  strategy: {},
};

export const authenticationReviewKinds = [tokenReviewKind, selfSubjectReviewKind];
