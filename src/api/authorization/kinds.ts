// The kinds of authorization.k8s.io/v1 that ask the authorizer a question: created, answered in their
// status, never stored. Validation as kube-apiserver's pkg/apis/authorization/validation.
import type { FieldError, KindDefinition, KubeObject } from '../kind.ts';
import { invalid, required } from '../schema/object-meta.ts';
import { localSubjectAccessReviewSchema, selfSubjectAccessReviewSchema, subjectAccessReviewSchema } from './schema.ts';
import { AUTHORIZATION_GROUP, type AccessReview } from './types.ts';

/** Exactly one of the two kinds of question. */
function questionErrors(review: AccessReview): FieldError[] {
  const { resourceAttributes, nonResourceAttributes } = review.spec;
  if (!resourceAttributes && !nonResourceAttributes) {
    const detail = 'exactly one of nonResourceAttributes or resourceAttributes must be specified';
    return [required('spec.resourceAttributes', detail)];
  }
  if (resourceAttributes && nonResourceAttributes) {
    const detail = 'cannot be specified in combination with resourceAttributes';
    return [invalid('spec.nonResourceAttributes', nonResourceAttributes, detail)];
  }
  return [];
}

function subjectErrors(review: AccessReview): FieldError[] {
  const { user, groups } = review.spec;
  if (user || groups?.length) return [];
  return [invalid('spec.user', user ?? '', 'at least one of user or group must be specified')];
}

/** A review has no name or other metadata of its own (a local one only its namespace). */
function metadataErrors(obj: KubeObject): FieldError[] {
  const { namespace: _namespace, ...rest } = obj.metadata;
  if (Object.keys(rest).length === 0) return [];
  return [invalid('metadata', rest, obj.metadata.namespace ? 'must be empty except for namespace' : 'must be empty')];
}

export function reviewKind(
  kind: string,
  namespaced: boolean,
  schema: KindDefinition['schema'],
  validate: (review: AccessReview) => FieldError[],
): KindDefinition {
  const plural = `${kind.toLowerCase()}s`;
  return {
    builtIn: true,
    createOnly: true,
    group: AUTHORIZATION_GROUP,
    version: 'v1',
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    shortNames: [],
    categories: [],
    namespaced,
    statusSubresource: false,
    generation: false,
    schema,
    description: schema.description!,
    printerColumns: [],
    strategy: { validate: (obj) => [...metadataErrors(obj), ...validate(obj as AccessReview)] },
  };
}

export const subjectAccessReviewKind = reviewKind('SubjectAccessReview', false, subjectAccessReviewSchema, (review) => [
  ...questionErrors(review),
  ...subjectErrors(review),
]);

export const selfSubjectAccessReviewKind = reviewKind(
  'SelfSubjectAccessReview',
  false,
  selfSubjectAccessReviewSchema,
  questionErrors,
);

export const localSubjectAccessReviewKind = reviewKind(
  'LocalSubjectAccessReview',
  true,
  localSubjectAccessReviewSchema,
  (review) => {
    const errors = [...questionErrors(review), ...subjectErrors(review)];
    const { resourceAttributes, nonResourceAttributes } = review.spec;
    if (nonResourceAttributes) {
      errors.push(invalid('spec.nonResourceAttributes', nonResourceAttributes, 'disallowed on this kind of request'));
    }
    const namespace = review.metadata.namespace;
    if (resourceAttributes && (resourceAttributes.namespace ?? '') !== namespace) {
      errors.push(
        invalid(
          'spec.resourceAttributes.namespace',
          resourceAttributes.namespace ?? '',
          `must match the namespace of the review, "${namespace}"`,
        ),
      );
    }
    return errors;
  },
);

export const accessReviewKinds = [subjectAccessReviewKind, selfSubjectAccessReviewKind, localSubjectAccessReviewKind];
