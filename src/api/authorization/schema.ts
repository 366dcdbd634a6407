import type { JSONSchema } from '../kind.ts';
import { array, boolean, map, object, string } from '../schema/build.ts';

const resourceAttributes = object('A resource request to decide on (authorizer.Attributes of a resource).', {
  namespace: string('Namespace of the request; empty for cluster-scoped resources or all namespaces.'),
  verb: string('Verb: get, list, watch, create, update, patch, delete, deletecollection, impersonate, "*"…'),
  group: string('API group of the resource; empty for the core group, "*" for all.'),
  version: string('API version of the resource; "*" for all.'),
  resource: string('Resource (plural), e.g. "apidefinitions"; "*" for all.'),
  subresource: string('Subresource, e.g. "status"; empty for the resource itself.'),
  name: string('Name of the object; empty for all (list, create).'),
});

const nonResourceAttributes = object('A request for a non-resource path.', {
  path: string('URL path, e.g. "/apis".'),
  verb: string('HTTP verb in lower case, e.g. "get".'),
});

const status = object('The decision, filled in by the server.', {
  allowed: boolean('Whether the request would be allowed.'),
  denied: boolean('Whether an authorizer denied the request outright (allowed is false then too).'),
  reason: string('Why it was allowed or not, for people.'),
  evaluationError: string('Why the question could not be answered fully, when it could not.'),
});

function review(description: string, spec: JSONSchema): JSONSchema {
  return object(description, { spec, status }, { required: ['spec'] });
}

const selfSpec = { resourceAttributes, nonResourceAttributes };
const subjectSpec = {
  ...selfSpec,
  user: string('User name to decide for.'),
  groups: array('Groups of the user.', string('Group name.')),
  extra: map('Extra attributes of the user (user.Info Extra).', array('Values.', string('Value.'))),
  uid: string('UID of the user.'),
};

export const subjectAccessReviewSchema = review(
  'SubjectAccessReview asks whether a user may do something (authorization.k8s.io/v1); answered, never stored.',
  object('The question: one of resourceAttributes or nonResourceAttributes, and a user or groups.', subjectSpec),
);

export const selfSubjectAccessReviewSchema = review(
  'SelfSubjectAccessReview asks whether the caller may do something (`kubectl auth can-i`); answered, never stored.',
  object('The question: one of resourceAttributes or nonResourceAttributes.', selfSpec),
);

export const localSubjectAccessReviewSchema = review(
  'LocalSubjectAccessReview asks whether a user may do something in one namespace; answered, never stored.',
  object("The question: resourceAttributes in the review's namespace, and a user or groups.", subjectSpec),
);
