// Fields more than one gatehouse.dev kind uses with the same meaning.
import type { JSONSchema } from '../kind.ts';
import { duration, integer, object } from '../schema/build.ts';

export interface RateLimit {
  requests: number;
  per: string;
}

export function rateLimitSchema(description: string): JSONSchema {
  return object(
    description,
    {
      requests: integer('Requests allowed per window.', { minimum: 1 }),
      per: duration('Length of the window, a Go duration such as "1s" or "1m".'),
    },
    { required: ['requests', 'per'] },
  );
}
