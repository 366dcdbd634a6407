// Headers of a forwarded exchange. Hop-by-hop headers (RFC 9110 §7.6.1), and those the
// sender lists in Connection, are dropped in both directions; X-Forwarded-For/Proto/Host
// tell the upstream who asked; the API's header transforms apply last.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { CompiledApi, HeaderChanges } from './config.ts';
import type { RequestContext } from './policies.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

export function requestHeaders(req: IncomingMessage, api: CompiledApi, ctx: RequestContext): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const incoming = req.headers;
  const listed = connectionTokens(incoming);
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || listed?.has(name) || name === api.credentialHeader) continue;
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

export function responseHeaders(incoming: IncomingHttpHeaders, changes: HeaderChanges | undefined, added: Record<string, string>): Record<string, string | string[]> {
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
