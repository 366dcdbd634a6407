import type { JSONSchema } from '../../kind.ts';
import {
  DNS1123_SUBDOMAIN_PATTERN,
  enumeration,
  object,
  specAndStatus,
  statusSchema,
  string,
} from '../../schema/build.ts';

const anyObject = (description: string): JSONSchema => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
});

export const subresourceRequestSchema: JSONSchema = specAndStatus(
  'SubresourceRequest carries one call of a subresource that another component answers (reconcile and diff by ' +
    'the GitOps controller, probe by the gateway) from the API server that received it to that component and ' +
    'back, through the Kubernetes API. The API server creates it, waits for its status and deletes it; nobody ' +
    'else needs to write one.',
  object(
    'The call.',
    {
      responder: enumeration('The component that answers.', ['controller', 'gateway']),
      target: object(
        'The object the subresource belongs to, in the namespace of the request.',
        {
          resource: string('Plural of its gatehouse.dev kind, e.g. syncs.', { minLength: 1 }),
          name: string('Its name.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
        },
        { required: ['resource', 'name'] },
      ),
      subresource: string('Name of the subresource, e.g. reconcile.', { minLength: 1 }),
      body: anyObject('The body the subresource was called with; absent for a GET.'),
      user: string('The user who called it, as the API server authenticated them.'),
    },
    { required: ['responder', 'target', 'subresource'] },
  ),
  statusSchema('The answer.', {
    claimedBy: string('The component instance that took the request.'),
    response: anyObject('The answer, as the subresource returns it.'),
    failure: object(
      'The refusal, as the subresource answers it.',
      {
        reason: string('Kubernetes Status reason, e.g. NotFound.', { minLength: 1 }),
        message: string('What was refused and why, naming the object.'),
      },
      { required: ['reason', 'message'] },
    ),
  }),
);
