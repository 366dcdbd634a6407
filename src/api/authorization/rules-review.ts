// SelfSubjectRulesReview (authorization.k8s.io/v1): the rules the caller holds in a namespace, which
// `kubectl auth can-i --list` prints. Created, answered in status, never stored.
import type { JSONSchema, KubeObject } from '../kind.ts';
import { array, boolean, object, string } from '../schema/build.ts';
import { reviewKind } from './kinds.ts';

const strings = (description: string) => array(description, string('One value.'));

const schema: JSONSchema = object(
  'SelfSubjectRulesReview lists what the caller may do in a namespace (`kubectl auth can-i --list`); answered, ' +
    "never stored. The list is for people and user interfaces: authorization decisions are SubjectAccessReviews'.",
  {
    spec: object('The question.', {
      namespace: string('Namespace to list the rules of; cluster-wide rules are included.'),
    }),
    status: object('The answer, filled in by the server.', {
      resourceRules: array(
        'Rules on resources.',
        object('What the caller may do to resources.', {
          verbs: strings('Verbs; "*" is all.'),
          apiGroups: strings('API groups; "*" is all.'),
          resources: strings('Resources; "*" is all.'),
          resourceNames: strings('Names the rule is restricted to; empty is every name.'),
        }),
      ),
      nonResourceRules: array(
        'Rules on non-resource paths.',
        object('What the caller may do to paths.', {
          verbs: strings('Verbs; "*" is all.'),
          nonResourceURLs: strings('Paths; a trailing "*" matches a prefix.'),
        }),
      ),
      incomplete: boolean('Whether some rules could not be resolved (a binding names a missing role).'),
      evaluationError: string('Why the list is incomplete.'),
    }),
  },
  { required: ['spec'] },
);

export const selfSubjectRulesReviewKind = reviewKind('SelfSubjectRulesReview', false, schema, () => []);

export interface SelfSubjectRulesReview extends KubeObject {
  spec: { namespace?: string };
}
