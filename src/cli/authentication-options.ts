// kube-apiserver's authentication options for `gatehouse apiserver` (names and meanings as kube's), and
// the ServiceAccount signing key `gatehouse up` keeps in its data directory.
import type { Command } from 'commander';
import { join } from 'node:path';
import { ensureServiceAccountSigningKey, loadServiceAccountKeys } from '../apiserver/auth/service-account/keys.ts';
import type { ApiServerOptions } from '../apiserver/server.ts';

/** Kubernetes' default --service-account-issuer, which tools expect as the audience of API server tokens. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface AuthenticationFlags {
  clientCaFile?: string;
  serviceAccountSigningKeyFile?: string;
  serviceAccountKeyFile?: string[];
  serviceAccountIssuer?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addAuthenticationOptions(command: Command): Command {
  return command
    .option('--client-ca-file <file>', 'PEM CAs of client certificates: CN is the user, O the groups')
    .option(
      '--service-account-signing-key-file <file>',
      'PEM private key ServiceAccount tokens are signed with (default: made once, kept in the data dir)',
    )
    .option(
      '--service-account-key-file <file>',
      'PEM public or private keys ServiceAccount tokens are verified with, besides the signing key (repeatable)',
      collect,
      [],
    )
    .option(
      '--service-account-issuer <url>',
      'the iss of ServiceAccount tokens, and their default audience',
      DEFAULT_ISSUER,
    );
}

/** The API server options the flags stand for; the signing key defaults to one kept under `dataDir`. */
export async function authenticationOf(
  dataDir: string,
  flags: AuthenticationFlags = {},
): Promise<Pick<ApiServerOptions, 'clientCaFile' | 'serviceAccountTokens'>> {
  const signingKeyFile =
    flags.serviceAccountSigningKeyFile ?? (await ensureServiceAccountSigningKey(join(dataDir, 'service-account')));
  const keys = await loadServiceAccountKeys(signingKeyFile, flags.serviceAccountKeyFile);
  const issuer = flags.serviceAccountIssuer ?? DEFAULT_ISSUER;
  return { clientCaFile: flags.clientCaFile, serviceAccountTokens: { keys, issuer } };
}
