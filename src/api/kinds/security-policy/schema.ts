import type { JSONSchema } from '../../kind.ts';
import {
  DNS1123_LABEL_PATTERN,
  DNS1123_SUBDOMAIN_PATTERN,
  array,
  duration,
  integer,
  listSet,
  object,
  specAndStatus,
  statusSchema,
  string,
} from '../../schema/build.ts';
import { rateLimitSchema } from '../shared.ts';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'];

export const securityPolicySchema: JSONSchema = specAndStatus(
  'SecurityPolicy grants access to APIs and sets the rate limit and quota of the consumers that hold it.',
  object('Desired access rights and limits.', {
    apis: array(
      'APIs the holder may call; an API not listed is refused.',
      object(
        'Access to one ApiDefinition.',
        {
          name: string('Name of the ApiDefinition.', { pattern: DNS1123_SUBDOMAIN_PATTERN }),
          namespace: string("Namespace of the ApiDefinition; defaults to the policy's namespace.", {
            pattern: DNS1123_LABEL_PATTERN,
          }),
          methods: listSet('HTTP methods allowed; empty allows all.', string('HTTP method.', { enum: HTTP_METHODS })),
          paths: listSet(
            'Path prefixes allowed (whole segments) below the API listenPath, starting with "/"; empty allows all.',
            string('Path prefix.', { pattern: '^/' }),
          ),
        },
        { required: ['name'] },
      ),
      // Access rights are known by the API they grant: name and namespace (absent: the policy's own).
      { default: [], 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name', 'namespace'] },
    ),
    rateLimit: rateLimitSchema('Requests per window allowed to each consumer holding the policy.'),
    quota: object(
      'Requests allowed to each consumer per quota period; the counter resets at the end of the period.',
      {
        max: integer('Requests allowed per period.', { minimum: 1 }),
        per: duration('Length of the quota period, a Go duration such as "24h".'),
      },
      { required: ['max', 'per'] },
    ),
  }),
  statusSchema('Observed state of the policy.'),
);
