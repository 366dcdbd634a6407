import type { JSONSchema } from '../../kind.ts';
import {
  array,
  boolean,
  dateTime,
  duration,
  enumeration,
  integer,
  listSet,
  localObjectReference,
  map,
  object,
  specAndStatus,
  statusSchema,
  string,
} from '../../schema/build.ts';
import { rateLimitSchema } from '../shared.ts';
import { DEFAULT_API_KEY_HEADER } from './types.ts';

const HOST_PATTERN = '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

function headerModifier(description: string): JSONSchema {
  return object(description, {
    set: map('Headers to set, replacing any value already present.'),
    remove: listSet('Names of headers to remove.', string('Header name.')),
  });
}

const upstream = object(
  'Where requests are proxied to.',
  {
    targets: array(
      'Upstream servers; requests are balanced across them by weight.',
      object(
        'One upstream server.',
        {
          url: string('Base URL of the server, http or https; the request path is appended to its path.', {
            minLength: 1,
          }),
          weight: integer(
            'Relative share of requests (1 when omitted; not defaulted in the stored object so that list items stay as written and `kubectl apply` sees no drift); 0 takes the target out of rotation.',
            { minimum: 0 },
          ),
        },
        { required: ['url'] },
      ),
      // Server-side apply merges targets by url: one manager may own a target's weight, another the list.
      { minItems: 1, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['url'] },
    ),
    timeout: duration('Time allowed for the whole upstream response, a Go duration.', '30s'),
    connectTimeout: duration('Time allowed to establish a connection, a Go duration.', '5s'),
    retries: integer('Further attempts on another target after a connection failure (idempotent methods only).', {
      minimum: 0,
      default: 0,
    }),
    healthCheck: object('Active health checking of the targets; unhealthy targets leave rotation.', {
      path: string('Path requested on each target; a 2xx or 3xx answer is healthy.', { pattern: '^/', default: '/' }),
      interval: duration('Time between checks.', '10s'),
      timeout: duration('Time allowed for one check.', '2s'),
      healthyThreshold: integer('Consecutive successes that make a target healthy again.', { minimum: 1, default: 2 }),
      unhealthyThreshold: integer('Consecutive failures that make a target unhealthy.', { minimum: 1, default: 3 }),
    }),
    circuitBreaker: object(
      'Passive failure detection per target: after consecutive failures the target is skipped for a while.',
      {
        consecutiveFailures: integer(
          'Consecutive failed requests (connection errors, timeouts, 502, 503 or 504 answers) that open the circuit.',
          { minimum: 1, default: 5 },
        ),
        openDuration: duration('How long an open circuit skips the target before trial requests.', '30s'),
        halfOpenRequests: integer(
          'Trial requests let through after openDuration; all must succeed to close the circuit.',
          { minimum: 1, default: 1 },
        ),
      },
    ),
  },
  { required: ['targets'] },
);

const auth = object('How callers authenticate. keyless lets every caller through.', {
  type: enumeration('Authentication method.', ['keyless', 'apiKey', 'jwt', 'basic'], 'keyless'),
  apiKey: object('API key settings for type apiKey. Keys are ApiKey objects of the same namespace.', {
    header: string(`Request header carrying the key (default ${DEFAULT_API_KEY_HEADER}).`, {
      minLength: 1,
      default: DEFAULT_API_KEY_HEADER,
    }),
    query: string('Query parameter also accepted as carrying the key.', { minLength: 1 }),
  }),
  jwt: object('JWT bearer token settings for type jwt. Exactly one of jwksUri and jwks is required.', {
    issuer: string('Required value of the iss claim.'),
    audiences: listSet('Accepted values of the aud claim; empty accepts any.', string('Audience.')),
    jwksUri: string('URL of the JSON Web Key Set used to verify signatures (http or https).'),
    jwks: object(
      'Inline JSON Web Key Set (RFC 7517) used to verify signatures.',
      {
        keys: array(
          'JSON Web Keys.',
          { type: 'object', description: 'A JSON Web Key.', 'x-kubernetes-preserve-unknown-fields': true },
          { 'x-kubernetes-list-type': 'atomic' },
        ),
      },
      { required: ['keys'] },
    ),
    consumerClaim: string("Claim whose value is matched against Consumers' jwtSubjects.", {
      minLength: 1,
      default: 'sub',
    }),
  }),
  basic: object('HTTP Basic settings for type basic.', {
    secretRef: localObjectReference(
      'Secret whose data maps user names (Consumer names) to bcrypt password hashes, as htpasswd -B writes them. Without it, the user name is a Consumer name and the password one of its API keys.',
    ),
  }),
  forwardCredentials: boolean(
    'Pass the credentials (API key header or query parameter, Authorization for jwt and basic) on to the upstream.',
    false,
  ),
});

const spec = object(
  'Desired state of the API.',
  {
    active: boolean('Whether the gateway serves the API; false keeps it declared but unrouted.', true),
    visibility: enumeration(
      'public APIs are served on every listener; internal ones only on the internal listener.',
      ['public', 'internal'],
      'public',
    ),
    hosts: listSet(
      'Host names the API answers on, optionally with a leading "*." wildcard; empty matches any host.',
      string('Host name.', { pattern: HOST_PATTERN }),
    ),
    listenPath: string('Path prefix the API is served under; must start with "/".', { pattern: '^/', minLength: 1 }),
    stripListenPath: boolean('Whether listenPath is removed from the path sent upstream.', false),
    upstream,
    auth: { ...auth, default: {} },
    rateLimit: rateLimitSchema('Limit on requests to the API as a whole, across all callers.'),
    cors: object('Cross-origin resource sharing; absent disables CORS handling.', {
      allowOrigins: listSet('Origins allowed, or "*".', string('Origin.')),
      allowMethods: listSet('Methods allowed in preflight answers.', string('Method.')),
      allowHeaders: listSet('Request headers allowed in preflight answers.', string('Header name.')),
      exposeHeaders: listSet('Response headers exposed to the browser.', string('Header name.')),
      allowCredentials: boolean('Whether credentials (cookies, Authorization) are allowed.', false),
      maxAge: integer('Seconds a preflight answer may be cached.', { minimum: 0 }),
    }),
    ipAllow: listSet(
      'CIDR blocks allowed to call the API; empty allows all (ipDeny still applies).',
      string('CIDR block, IPv4 or IPv6.', { format: 'cidr' }),
    ),
    ipDeny: listSet(
      'CIDR blocks refused; checked before ipAllow.',
      string('CIDR block, IPv4 or IPv6.', { format: 'cidr' }),
    ),
    requestHeaders: headerModifier('Changes to request headers before proxying.'),
    responseHeaders: headerModifier('Changes to response headers before answering.'),
    maxBodyBytes: integer('Largest request body accepted, in bytes; larger requests get 413.', { minimum: 0 }),
  },
  { required: ['listenPath', 'upstream'] },
);

export const apiDefinitionSchema: JSONSchema = specAndStatus(
  'ApiDefinition declares one API: where it listens, where it proxies, how callers authenticate and its limits.',
  spec,
  statusSchema('Observed state of the API, written by the gateway controller.', {
    traffic: object(
      'Requests the status-writing gateway answered for the API since it began counting, published every 2 s while ' +
        'they change; a Sync with spec.rollback compares two readings of the same `since`.',
      {
        requests: integer('Requests answered.', { minimum: 0 }),
        serverErrors: integer("Answers with a 5xx status (the upstream's, or the gateway's 502, 503, 504).", {
          minimum: 0,
        }),
        since: dateTime('When the gateway writing the counters began counting.'),
      },
      { required: ['requests', 'serverErrors', 'since'] },
    ),
  }),
);
