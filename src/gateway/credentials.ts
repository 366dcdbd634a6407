// Credentials in the query string (spec.auth.apiKey.query): removed from the URL sent
// upstream and redacted in the access log. Parameter names are compared as
// application/x-www-form-urlencoded decodes them (URLSearchParams, as the API key step
// reads them), so a spelling such as "api%5Fkey" is the same parameter as "api_key".
import type { CompiledApi } from './config.ts';

/** What the access log shows in place of a credential's value. */
const REDACTED = 'REDACTED';

/** `query` ("?…" or "") without every occurrence of parameter `name`; "" when nothing is left. */
export function withoutParam(query: string, name: string): string {
  if (query.length < 2) return query;
  const pieces = query.slice(1).split('&');
  const kept = pieces.filter((piece) => paramName(piece) !== name);
  if (kept.length === pieces.length) return query;
  return kept.length === 0 ? '' : `?${kept.join('&')}`;
}

/** The request target as the access log shows it: the value of `api`'s credential parameter
 * redacted, or for a request no API took, of every parameter (any may be some API's key). */
export function loggedUrl(url: string, api: Pick<CompiledApi, 'credentialQuery'> | undefined): string {
  const q = url.indexOf('?');
  if (q < 0 || (api && api.credentialQuery === undefined)) return url;
  return url.slice(0, q) + redactQuery(url.slice(q), api?.credentialQuery);
}

/** `query` with the value of parameter `name` replaced by REDACTED, or of every parameter
 * when `name` is undefined. */
function redactQuery(query: string, name?: string): string {
  if (query.length < 2) return query;
  const pieces = query.slice(1).split('&');
  for (let i = 0; i < pieces.length; i++) {
    const eq = pieces[i].indexOf('=');
    if (eq < 0 || (name !== undefined && paramName(pieces[i]) !== name)) continue;
    pieces[i] = `${pieces[i].slice(0, eq)}=${REDACTED}`;
  }
  return `?${pieces.join('&')}`;
}

/** The decoded name of one `name=value` piece of a query. */
function paramName(piece: string): string {
  const eq = piece.indexOf('=');
  const raw = eq < 0 ? piece : piece.slice(0, eq);
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  return new URLSearchParams(raw).keys().next().value ?? '';
}

/** The query string sent upstream: `query` without the API's credential parameter, unless
 * the API forwards its credentials. */
export function upstreamQuery(api: Pick<CompiledApi, 'credentialQuery' | 'forwardCredentials'>, query: string): string {
  return api.credentialQuery === undefined || api.forwardCredentials ? query : withoutParam(query, api.credentialQuery);
}
