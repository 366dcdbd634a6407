// API keys (spec.auth.type apiKey): the key in a header, or in a query parameter when the
// API names one. Keys are ApiKey objects of the API's namespace, looked up by digest.
import { DEFAULT_API_KEY_HEADER, type ApiDefinition } from '../../api/kinds/api-definition/index.ts';
import type { Refusal } from '../errors.ts';
import { validKey, type KeyEntry } from '../keys.ts';
import type { Step } from '../policies.ts';
import { challenge } from './challenge.ts';
import { admit } from './consumers.ts';

export interface ApiKeyDeps {
  apiId: string;
  keys: ReadonlyMap<string, KeyEntry>;
  now: () => number;
}

export function apiKeyStep(api: ApiDefinition, deps: ApiKeyDeps): Step {
  const header = (api.spec.auth.apiKey?.header ?? DEFAULT_API_KEY_HEADER).toLowerCase();
  const queryName = api.spec.auth.apiKey?.query;
  const namespace = api.metadata.namespace ?? 'default';
  const headers = { 'www-authenticate': challenge('ApiKey', { realm: deps.apiId, header }) };
  const missing: Refusal = {
    code: 'CREDENTIALS_MISSING',
    message: `an API key is required in the ${header} header`,
    headers,
  };
  const invalid: Refusal = { code: 'CREDENTIALS_INVALID', message: 'the API key is unknown or expired', headers };
  return (ctx) => {
    let presented = ctx.req.headers[header] as string | undefined;
    if (presented === undefined && queryName && ctx.query)
      presented = new URLSearchParams(ctx.query.slice(1)).get(queryName) ?? undefined;
    if (!presented) return missing;
    const entry = validKey(deps.keys, presented, namespace, deps.now());
    return entry ? admit(ctx, entry, deps.apiId) : invalid;
  };
}
