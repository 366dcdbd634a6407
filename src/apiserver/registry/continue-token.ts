// Continue tokens: an opaque position (resource, snapshot revision, last key returned).
// They are not signed: a decodable token only selects a position in a list the caller
// may read anyway. Tokens for another resource, or that do not decode, are refused.
import { errors } from '../errors.ts';

export interface ContinuePosition {
  resource: string;
  revision: number;
  namespace: string;
  name: string;
}

export function encodeContinue(position: ContinuePosition): string {
  const body = JSON.stringify({
    v: 1,
    r: position.resource,
    rv: position.revision,
    ns: position.namespace,
    n: position.name,
  });
  return Buffer.from(body).toString('base64url');
}

export function decodeContinue(token: string, resource: string): ContinuePosition {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw errors.badRequest(`continue key is not valid: the token could not be decoded`);
  }
  const p = parsed as Record<string, unknown>;
  if (
    typeof p !== 'object' ||
    p === null ||
    p.v !== 1 ||
    typeof p.r !== 'string' ||
    !Number.isSafeInteger(p.rv) ||
    (p.rv as number) < 1 ||
    typeof p.ns !== 'string' ||
    typeof p.n !== 'string' ||
    p.n === '' ||
    // Storage keys cannot hold NUL: such a position names nothing that exists.
    `${p.ns}${p.n}`.includes('\0')
  ) {
    throw errors.badRequest('continue key is not valid: unexpected token contents');
  }
  if (p.r !== resource)
    throw errors.badRequest(`continue key is not valid: it belongs to a list of ${p.r}, not ${resource}`);
  return { resource: p.r, revision: p.rv as number, namespace: p.ns, name: p.n };
}
