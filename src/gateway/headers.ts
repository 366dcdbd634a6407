// Headers of a forwarded exchange. Hop-by-hop headers (RFC 9110 §7.6.1), and those the
// sender lists in Connection, are dropped in both directions; X-Forwarded-For/Proto/Host
// tell the upstream who asked; the API's header transforms apply last.
//
// What the gateway tells the upstream about the caller is the gateway's word alone: a
// client's own X-Gatehouse-* (X-Gatehouse-Consumer names the authenticated Consumer),
// X-Forwarded-Host and X-Forwarded-Proto are removed on every API, keyless ones included,
// before the gateway writes its own. X-Forwarded-For is appended to, as by any proxy: its
// last entry is the peer address the gateway saw; the entries before it are the client's
// claims.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { CompiledApi, HeaderChanges } from './config.ts';
import type { RequestContext } from './policies.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);
/** Request headers never passed on: hop-by-hop ones; those the gateway writes itself; and
 * Expect, which the gateway answers (100 Continue once the policy chain admitted the
 * request) and the upstream has no part in: it receives the body as it streams. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'x-forwarded-host', 'x-forwarded-proto', 'expect']);
/** Prefix of the headers the gateway sends upstream about the caller. */
const GATEWAY_PREFIX = 'x-gatehouse-';

export function requestHeaders(
  req: IncomingMessage,
  api: CompiledApi,
  ctx: RequestContext,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const incoming = req.headers;
  const listed = connectionTokens(incoming);
  for (const name in incoming) {
    if (NOT_FORWARDED.has(name) || listed?.has(name) || name === api.credentialHeader) continue;
    if (name.startsWith(GATEWAY_PREFIX)) continue;
    out[name] = incoming[name]!;
  }
  const prior = incoming['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${prior}, ${ctx.clientIp}` : ctx.clientIp;
  out['x-forwarded-proto'] = 'http';
  if (incoming.host) out['x-forwarded-host'] = incoming.host;
  if (ctx.consumer) out['x-gatehouse-consumer'] = ctx.consumer.consumer;
  if (api.requestHeaders) applyChanges(out, api.requestHeaders);
  return out;
}

export function responseHeaders(
  incoming: IncomingHttpHeaders,
  changes: HeaderChanges | undefined,
  added: Record<string, string>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = connectionTokens(incoming);
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out[name] = incoming[name]!;
  }
  for (const name in added) out[name] = added[name];
  if (changes) applyChanges(out, changes);
  return out;
}

function applyChanges(headers: Record<string, string | string[]>, changes: HeaderChanges): void {
  for (const name of changes.remove) delete headers[name];
  for (const [name, value] of changes.set) headers[name] = value;
}

/** Header names the sender listed in Connection, which are hop-by-hop too. */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> | undefined {
  const value = headers.connection;
  if (!value || value === 'keep-alive' || value === 'close') return undefined;
  return new Set(value.split(',').map((t) => t.trim().toLowerCase()));
}
