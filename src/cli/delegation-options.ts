// The delegated authentication and authorization options of `gatehouse apiserver --mode aggregated`, named
// and defaulted as k8s.io/apiserver's (DelegatingAuthenticationOptions, DelegatingAuthorizationOptions,
// RequestHeaderAuthenticationOptions), so an operator of any extension API server recognises them.
import { type Command, InvalidArgumentError } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { tryParseDuration } from '../api/duration.ts';
import { DEFAULT_ALWAYS_ALLOW_PATHS } from '../apiserver/auth/delegated/always-allow-paths.ts';
import { DELEGATION_DEFAULTS, type Delegation, startDelegation } from '../apiserver/auth/delegated/delegation.ts';
import type { DelegationOptions } from '../apiserver/auth/delegated/delegation.ts';
import type { KubeClient } from '../client/rest.ts';

export interface DelegationFlags {
  authenticationKubeconfig?: string;
  authorizationKubeconfig?: string;
  requestheaderClientCaFile?: string;
  requestheaderAllowedNames?: string[];
  requestheaderUsernameHeaders?: string[];
  requestheaderGroupHeaders?: string[];
  requestheaderExtraHeadersPrefix?: string[];
  authenticationSkipLookup?: boolean;
  authenticationTokenWebhookCacheTtl?: number;
  authorizationWebhookCacheAuthorizedTtl?: number;
  authorizationWebhookCacheUnauthorizedTtl?: number;
  authorizationAlwaysAllowPaths?: string[];
}

/** What else of `gatehouse apiserver` the delegated options meet: the mode, the cluster's client (--kubeconfig
 * or in-cluster), --client-ca-file (the client CA in both modes) and --token-file (standalone only). */
export interface DelegationContext {
  mode: 'standalone' | 'aggregated';
  cluster?: { client: KubeClient };
  clientCaFile?: string;
  tokenFile?: string;
}

/** kube's StringSlice: comma-separated, and repeatable. */
const list = (value: string, previous: string[] | undefined) => [
  ...(previous ?? []),
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

/** A Go duration such as 10s or 5m, in milliseconds; 0 turns the cache off, as in kube. */
function ttl(value: string): number {
  const ms = tryParseDuration(value);
  if (ms === undefined || ms < 0) throw new InvalidArgumentError(`"${value}" is not a duration such as 10s or 5m`);
  return ms;
}

const seconds = (ms: number) => `${ms / 1000}s`;

export function addDelegationOptions(command: Command): Command {
  const aggregated = 'aggregated: ';
  return command
    .option('--authentication-kubeconfig <file>', `${aggregated}where TokenReviews go (default: --kubeconfig)`)
    .option('--authorization-kubeconfig <file>', `${aggregated}where SubjectAccessReviews go (default: --kubeconfig)`)
    .option(
      '--requestheader-client-ca-file <file>',
      `${aggregated}PEM CA of the front proxy's client certificate (default: ConfigMap ` +
        'kube-system/extension-apiserver-authentication, followed as it changes)',
    )
    .option(
      '--requestheader-allowed-names <names>',
      `${aggregated}common names the front proxy's certificate may have; empty: any (default: the ConfigMap's)`,
      list,
    )
    .option(
      '--requestheader-username-headers <headers>',
      `${aggregated}default: the ConfigMap's, else X-Remote-User`,
      list,
    )
    .option(
      '--requestheader-group-headers <headers>',
      `${aggregated}default: the ConfigMap's, else X-Remote-Group`,
      list,
    )
    .option(
      '--requestheader-extra-headers-prefix <prefixes>',
      `${aggregated}default: the ConfigMap's, else X-Remote-Extra-`,
      list,
    )
    .option('--authentication-skip-lookup', `${aggregated}do not read the ConfigMap; the flags alone`)
    .option(
      '--authentication-token-webhook-cache-ttl <duration>',
      `${aggregated}how long TokenReview answers are kept (default: ${seconds(DELEGATION_DEFAULTS.tokenCacheTtlMs)})`,
      ttl,
    )
    .option(
      '--authorization-webhook-cache-authorized-ttl <duration>',
      `${aggregated}how long allowing SubjectAccessReview answers are kept (default: 5m)`,
      ttl,
    )
    .option(
      '--authorization-webhook-cache-unauthorized-ttl <duration>',
      `${aggregated}how long refusing SubjectAccessReview answers are kept ` +
        `(default: ${seconds(DELEGATION_DEFAULTS.unauthorizedTtlMs)})`,
      ttl,
    )
    .option(
      '--authorization-always-allow-paths <paths>',
      `${aggregated}paths anyone may request, a trailing * a prefix (default: ${DEFAULT_ALWAYS_ALLOW_PATHS.join(',')})`,
      list,
    );
}

const FLAGS: readonly (keyof DelegationFlags)[] = [
  'authenticationKubeconfig',
  'authorizationKubeconfig',
  'requestheaderClientCaFile',
  'requestheaderAllowedNames',
  'requestheaderUsernameHeaders',
  'requestheaderGroupHeaders',
  'requestheaderExtraHeadersPrefix',
  'authenticationSkipLookup',
  'authenticationTokenWebhookCacheTtl',
  'authorizationWebhookCacheAuthorizedTtl',
  'authorizationWebhookCacheUnauthorizedTtl',
  'authorizationAlwaysAllowPaths',
];

/** The option names of the delegation flags given, as typed. */
function given(flags: DelegationFlags): string[] {
  return FLAGS.filter((key) => flags[key] !== undefined).map(
    (key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
  );
}

async function clientOf(file: string | undefined, cluster: KubeClient): Promise<KubeClient> {
  // Imported here, not at the top: declaring the options (gatehouse --help) must not load the client.
  const [{ KubeClient }, { loadKubeconfig }] = await Promise.all([
    import('../client/rest.ts'),
    import('../client/kubeconfig.ts'),
  ]);
  return new KubeClient(file === undefined ? cluster.config : await loadKubeconfig(resolve(file)));
}

/** Delegated access in aggregated mode (started: the ConfigMap read); undefined standalone, where a
 * delegation flag is an error, as --token-file is in aggregated mode. */
export async function delegationOf(
  flags: DelegationFlags,
  context: DelegationContext,
  onError: DelegationOptions['onError'],
): Promise<Delegation | undefined> {
  if (context.mode === 'standalone') {
    const [flag] = given(flags);
    if (flag) throw new InvalidArgumentError(`${flag} is only valid with --mode aggregated`);
    return undefined;
  }
  if (context.tokenFile !== undefined) {
    throw new InvalidArgumentError('--token-file is only valid with --mode standalone: the cluster authenticates');
  }
  if (!context.cluster) throw new Error('aggregated mode without the cluster client');
  const pem = (file: string | undefined) => (file === undefined ? undefined : readFile(resolve(file), 'utf8'));
  return startDelegation({
    authentication: await clientOf(flags.authenticationKubeconfig, context.cluster.client),
    authorization: await clientOf(flags.authorizationKubeconfig, context.cluster.client),
    clientCa: await pem(context.clientCaFile),
    requestHeaderCa: await pem(flags.requestheaderClientCaFile),
    requestHeaderAllowedNames: flags.requestheaderAllowedNames,
    requestHeaderUsernameHeaders: flags.requestheaderUsernameHeaders,
    requestHeaderGroupHeaders: flags.requestheaderGroupHeaders,
    requestHeaderExtraHeadersPrefix: flags.requestheaderExtraHeadersPrefix,
    skipLookup: flags.authenticationSkipLookup,
    tokenCacheTtlMs: flags.authenticationTokenWebhookCacheTtl,
    authorizedTtlMs: flags.authorizationWebhookCacheAuthorizedTtl,
    unauthorizedTtlMs: flags.authorizationWebhookCacheUnauthorizedTtl,
    alwaysAllowPaths: flags.authorizationAlwaysAllowPaths,
    onError,
  });
}
