// The `token` subresource of ServiceAccounts (kube's TokenRequest, `kubectl create token`): a POST of an
// authentication.k8s.io/v1 TokenRequest answered with a new token for the ServiceAccount, bound to its uid.
// Validation as kube-apiserver's: expirationSeconds at least 10 minutes (default one hour) and at most 2³²;
// audiences default to the API server's. Tokens bound to other objects (boundObjectRef: Pods, Secrets,
// Nodes) are not offered: Gatehouse has no Pods or Nodes to bind to.
import { AUTHENTICATION_GROUP } from '../../../api/authentication/types.ts';
import type { FieldError, KubeObject } from '../../../api/kind.ts';
import { forbidden, invalid } from '../../../api/schema/object-meta.ts';
import { isPlainObject } from '../../../api/schema/walk.ts';
import { errors } from '../../errors.ts';
import type { SubresourceContext, SubresourceHandler } from '../../http/handler.ts';
import type { ServiceAccountTokens } from './tokens.ts';

const API_VERSION = `${AUTHENTICATION_GROUP}/v1`;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const DEFAULT_EXPIRATION_SECONDS = 3600;

interface TokenRequestSpec {
  audiences: string[];
  expirationSeconds: number;
}

function expirationProblems(seconds: unknown): FieldError[] {
  const field = 'spec.expirationSeconds';
  if (typeof seconds !== 'number' || !Number.isInteger(seconds)) return [invalid(field, seconds, 'must be an integer')];
  if (seconds < MIN_EXPIRATION_SECONDS) {
    return [invalid(field, seconds, 'may not specify a duration less than 10 minutes')];
  }
  if (seconds > MAX_EXPIRATION_SECONDS) {
    return [invalid(field, seconds, 'may not specify a duration larger than 2^32 seconds')];
  }
  return [];
}

/** The request's spec with its defaults, or the problems of the body, each naming its field. */
function specOf(body: Record<string, unknown>, apiAudiences: readonly string[]): TokenRequestSpec | FieldError[] {
  const problems: FieldError[] = [];
  if (body.apiVersion !== undefined && body.apiVersion !== API_VERSION) {
    problems.push(invalid('apiVersion', body.apiVersion, `must be ${API_VERSION}`));
  }
  if (body.kind !== undefined && body.kind !== 'TokenRequest') {
    problems.push(invalid('kind', body.kind, 'must be TokenRequest'));
  }
  const spec = body.spec ?? {};
  if (!isPlainObject(spec)) return [...problems, invalid('spec', spec, 'must be an object')];
  const { audiences = [], expirationSeconds = DEFAULT_EXPIRATION_SECONDS, boundObjectRef } = spec;
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string' || a === '')) {
    problems.push(invalid('spec.audiences', audiences, 'must be a list of non-empty strings'));
  }
  problems.push(...expirationProblems(expirationSeconds));
  if (boundObjectRef !== undefined && boundObjectRef !== null) {
    problems.push(forbidden('spec.boundObjectRef', 'Gatehouse issues no tokens bound to objects'));
  }
  if (problems.length) return problems;
  const asked = audiences as string[];
  return { audiences: asked.length ? asked : [...apiAudiences], expirationSeconds: expirationSeconds as number };
}

export function tokenRequestSubresource(tokens: ServiceAccountTokens): SubresourceHandler {
  return {
    group: '',
    plural: 'serviceaccounts',
    kind: 'ServiceAccount',
    name: 'token',
    verbs: ['create'],
    responseKind: { group: AUTHENTICATION_GROUP, version: 'v1', kind: 'TokenRequest' },
    async handle({ namespace, name, body, store }: SubresourceContext) {
      if (!isPlainObject(body)) {
        throw errors.badRequest(`the token request of ServiceAccount "${namespace}/${name}" needs a TokenRequest body`);
      }
      const spec = specOf(body, tokens.apiAudiences);
      if (Array.isArray(spec)) {
        throw errors.invalid({ group: AUTHENTICATION_GROUP, resource: 'tokenrequests' }, 'TokenRequest', name, spec);
      }
      const account: KubeObject = await store.get(namespace, name);
      const uid = account.metadata.uid as string;
      const issued = await tokens.issue({ namespace, name, uid }, spec.audiences, spec.expirationSeconds);
      return {
        code: 201,
        body: {
          apiVersion: API_VERSION,
          kind: 'TokenRequest',
          metadata: { name, namespace, creationTimestamp: new Date().toISOString() },
          spec: { ...spec, boundObjectRef: null },
          status: issued,
        },
      };
    },
  };
}
