// What a Provider needs to send: its address, token and headers, from spec and its Secret (the
// Secret's address wins, as in Flux), checked once for both the Provider's Ready condition and
// each delivery. Problems name the field and the Secret, never a value from it.
import type { Secret } from '../../api/core/secret/index.ts';
import type { Provider, ProviderType } from '../../api/kinds/provider/index.ts';
import { parse as parseYaml } from 'yaml';
import { ReadinessReason, type Finding } from '../controllers/readiness.ts';

export interface Target {
  type: ProviderType;
  address: URL;
  token?: string;
  headers: Record<string, string>;
  channel?: string;
  username?: string;
  /** The Provider's uid: commit statuses of two Providers on one repository stay apart. */
  uid: string;
  /** PEM of the CA of the receiver's certificate (certSecretRef). */
  ca?: string;
  timeout: string;
}

export type TargetRead = { ok: true; target: Target; secrets: string[] } | { ok: false; problems: Finding[] };

const NEEDS_TOKEN: ReadonlySet<ProviderType> = new Set(['generic-hmac', 'github', 'gitlab']);

/** `secrets` finds a Secret by namespace and name (an informer's cache). */
export function readTarget(
  provider: Provider,
  secrets: (namespace: string, name: string) => Secret | undefined,
): TargetRead {
  const { spec } = provider;
  const namespace = provider.metadata.namespace ?? 'default';
  const problems: Finding[] = [];
  const data = (field: string, name: string | undefined): Record<string, string> => {
    if (!name) return {};
    const secret = secrets(namespace, name);
    if (!secret) {
      problems.push({
        reason: ReadinessReason.SecretNotFound,
        message: `${field}: Secret ${namespace}/${name} not found`,
      });
      return {};
    }
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  };
  const secretName = spec.secretRef?.name;
  const values = data('spec.secretRef', secretName);
  const ca = data('spec.certSecretRef', spec.certSecretRef?.name)['ca.crt'];
  if (spec.certSecretRef && !problems.length && !ca)
    problems.push({
      reason: ReadinessReason.SecretNotFound,
      message: `spec.certSecretRef: Secret ${namespace}/${spec.certSecretRef.name} has no ca.crt key`,
    });
  const inSecret = secretName ? `Secret ${namespace}/${secretName}` : 'no spec.secretRef';
  const lacks = (key: string) => (secretName ? `${inSecret} has no ${key} key` : inSecret);

  let address: URL | undefined;
  const raw = values.address ?? spec.address;
  const where = values.address !== undefined ? `spec.secretRef: ${inSecret} address` : 'spec.address';
  if (!raw) {
    problems.push({
      reason: ReadinessReason.AddressMissing,
      message: `spec.address: empty, and ${lacks('address')}`,
    });
  } else {
    address = URL.canParse(raw) ? new URL(raw) : undefined;
    if (!address || (address.protocol !== 'http:' && address.protocol !== 'https:')) {
      // The value itself may be secret (a Slack webhook URL holds its key): only the field is named.
      problems.push({ reason: ReadinessReason.InvalidAddress, message: `${where}: not an http or https URL` });
    } else if ((spec.type === 'github' || spec.type === 'gitlab') && repositoryPath(address).split('/').length < 2) {
      problems.push({
        reason: ReadinessReason.InvalidAddress,
        message: `${where}: ${spec.type} needs the repository URL (https://HOST/OWNER/REPO)`,
      });
    }
  }
  const token = values.token || undefined;
  if (NEEDS_TOKEN.has(spec.type) && !token)
    problems.push({
      reason: ReadinessReason.TokenMissing,
      message: `spec.secretRef: ${spec.type} needs a token, and ${lacks('token')}`,
    });
  let headers: Record<string, string> = {};
  if (values.headers !== undefined) {
    const parsed = parseHeaders(values.headers);
    if (parsed) headers = parsed;
    else
      problems.push({
        reason: ReadinessReason.InvalidHeaders,
        message: `spec.secretRef: ${inSecret} headers is not a YAML map of header names to strings`,
      });
  }
  if (problems.length || !address) return { ok: false, problems };
  return {
    ok: true,
    target: {
      type: spec.type,
      address,
      ...(token ? { token } : {}),
      headers,
      ...(spec.channel ? { channel: spec.channel } : {}),
      ...(spec.username ? { username: spec.username } : {}),
      uid: provider.metadata.uid ?? '',
      ...(ca ? { ca } : {}),
      timeout: spec.timeout,
    },
    secrets: Object.values(values),
  };
}

/** `OWNER/REPO` (GitHub) or `GROUP/…/PROJECT` (GitLab) of a repository URL, without `.git`. */
export function repositoryPath(address: URL): string {
  return address.pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function parseHeaders(text: string): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch {
    return undefined;
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.some(([k, v]) => !HEADER_NAME.test(k) || typeof v !== 'string')) return undefined;
  return Object.fromEntries(entries) as Record<string, string>;
}
