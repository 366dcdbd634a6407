// The authentication step of an API, by spec.auth.type. Every type ends in a Principal whose
// SecurityPolicies must grant the API, method and path; keyless APIs have no step.
import { DEFAULT_API_KEY_HEADER, type ApiDefinition, type Auth } from '../../api/kinds/api-definition/index.ts';
import type { Step } from '../policies.ts';
import { apiKeyStep, type ApiKeyDeps } from './api-key.ts';
import { basicStep, type BasicDeps } from './basic.ts';
import { jwtStep, type JwtDeps } from './jwt.ts';

export type AuthDeps = ApiKeyDeps & BasicDeps & JwtDeps;

/** Throws, with a message naming the field or object at fault, when the API's credentials
 * could not be checked: the API is then left out of the config (fail closed). */
export function authStep(api: ApiDefinition, deps: AuthDeps): Step | undefined {
  switch (api.spec.auth.type) {
    case 'keyless':
      return undefined;
    case 'apiKey':
      return apiKeyStep(api, deps);
    case 'jwt':
      return jwtStep(api, deps);
    case 'basic':
      return basicStep(api, deps);
  }
}

/** The request header carrying the API's credentials (lower case), to be removed before
 * proxying: credentials are for the gateway, not for the upstream, unless the API says
 * otherwise (spec.auth.forwardCredentials). */
export function credentialHeader(auth: Auth): string | undefined {
  if (auth.forwardCredentials) return undefined;
  switch (auth.type) {
    case 'keyless':
      return undefined;
    case 'apiKey':
      return (auth.apiKey?.header ?? DEFAULT_API_KEY_HEADER).toLowerCase();
    case 'jwt':
    case 'basic':
      return 'authorization';
  }
}

/** The query parameter that may carry the API's credentials (spec.auth.apiKey.query). */
export function credentialQuery(auth: Auth): string | undefined {
  return auth.type === 'apiKey' ? auth.apiKey?.query : undefined;
}
