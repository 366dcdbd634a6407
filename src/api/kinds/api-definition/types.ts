import type { KubeObject } from '../../kind.ts';
import type { CommonStatus, LocalObjectReference } from '../../status.ts';
import type { RateLimit } from '../shared.ts';

export type Visibility = 'public' | 'internal';
export type AuthType = 'keyless' | 'apiKey' | 'jwt' | 'basic';

/** Header read for API keys when spec.auth.apiKey is absent or names no header. */
export const DEFAULT_API_KEY_HEADER = 'X-API-Key';

export interface UpstreamTarget {
  url: string;
  weight?: number;
}

export interface HealthCheck {
  path: string;
  interval: string;
  timeout: string;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface CircuitBreaker {
  consecutiveFailures: number;
  openDuration: string;
  halfOpenRequests: number;
}

export interface Upstream {
  targets: UpstreamTarget[];
  timeout: string;
  connectTimeout: string;
  retries: number;
  healthCheck?: HealthCheck;
  circuitBreaker?: CircuitBreaker;
}

export interface ApiKeyAuth {
  header: string;
  query?: string;
}

export interface JsonWebKeySet {
  keys: Record<string, unknown>[];
}

export interface JwtAuth {
  issuer?: string;
  audiences?: string[];
  jwksUri?: string;
  jwks?: JsonWebKeySet;
  consumerClaim: string;
}

export interface BasicAuth {
  secretRef?: LocalObjectReference;
}

export interface Auth {
  type: AuthType;
  apiKey?: ApiKeyAuth;
  jwt?: JwtAuth;
  basic?: BasicAuth;
  /** Defaulted to false by the API server; absent (false) in a last good config saved before the field existed. */
  forwardCredentials?: boolean;
}

export interface Cors {
  allowOrigins?: string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  allowCredentials: boolean;
  maxAge?: number;
}

export interface HeaderModifier {
  set?: Record<string, string>;
  remove?: string[];
}

export interface ApiDefinitionSpec {
  active: boolean;
  visibility: Visibility;
  hosts?: string[];
  listenPath: string;
  stripListenPath: boolean;
  upstream: Upstream;
  auth: Auth;
  rateLimit?: RateLimit;
  cors?: Cors;
  ipAllow?: string[];
  ipDeny?: string[];
  requestHeaders?: HeaderModifier;
  responseHeaders?: HeaderModifier;
  maxBodyBytes?: number;
}

/** Requests the status-writing gateway answered for an API since it began counting (cumulative counters: a
 * reader compares two readings of the same `since`). */
export interface ApiTraffic {
  requests: number;
  /** Answers with a 5xx status: the upstream's, or the gateway's own 502, 503 and 504. */
  serverErrors: number;
  /** When the gateway writing them began counting; another value means other counters (a new writer). */
  since: string;
}

export interface ApiDefinitionStatus extends CommonStatus {
  traffic?: ApiTraffic;
}

/** An ApiDefinition after defaulting: defaulted fields are present. */
export interface ApiDefinition extends KubeObject {
  spec: ApiDefinitionSpec;
  status?: ApiDefinitionStatus;
}
