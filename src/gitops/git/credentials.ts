// How a GitRepository's Secret (Flux keys) becomes files and environment for git, and the
// rules it must meet first. Nothing secret ever reaches a command line (visible to every
// user in process listings): the private key and known_hosts are files of mode 0600 in a
// private directory, the password reaches git through GIT_ASKPASS (a script that prints an
// environment variable), the bearer token through GIT_CONFIG_* variables.
import { join } from 'node:path';
import { GitError } from './errors.ts';
import type { GitUrl } from './url.ts';

/** Credentials from the Secret spec.secretRef names, decoded. An object without any of
 * them means no Secret. `secretName` only improves messages. */
export interface GitAuth {
  secretName?: string;
  /** ssh: private key (unencrypted, OpenSSH or PEM). Secret key `identity`. */
  identity?: string;
  /** ssh: known_hosts lines; required for ssh. Secret key `known_hosts`. */
  knownHosts?: string;
  /** http(s) basic auth, with password. Secret key `username`. */
  username?: string;
  /** Secret key `password`. */
  password?: string;
  /** http(s): sent as "Authorization: Bearer <token>". Secret key `bearerToken`. */
  bearerToken?: string;
  /** https: PEM of the CA that signs the server's certificate. Secret key `ca.crt`. */
  caCert?: string;
}

/** The Secret keys (Flux's names) of each GitAuth field. */
export const SECRET_KEYS = {
  identity: 'identity',
  knownHosts: 'known_hosts',
  username: 'username',
  password: 'password',
  bearerToken: 'bearerToken',
  caCert: 'ca.crt',
} as const satisfies Record<Exclude<keyof GitAuth, 'secretName'>, string>;

type CredentialField = keyof typeof SECRET_KEYS;

/** GitAuth from a Secret's decoded data (`secretName` for messages); other keys are ignored. */
export function authFromSecretData(data: Readonly<Record<string, string | undefined>>, secretName?: string): GitAuth {
  const auth: GitAuth = { secretName };
  for (const [field, key] of Object.entries(SECRET_KEYS) as [CredentialField, string][]) {
    if (data[key]) auth[field] = data[key];
  }
  return auth;
}

export interface CredentialPlan {
  /** Files to create (exclusively) before running git. */
  files: { path: string; content: string; mode: number }[];
  /** Environment variables for git, besides programEnv's. */
  env: Record<string, string>;
  /** Configuration for git, passed as GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n. */
  config: [key: string, value: string][];
  /** Values to scrub from anything git prints. */
  secrets: string[];
  /** Where the credentials come from, for messages (`secret "git-auth"`); undefined without any. */
  source: string | undefined;
}

const ASKPASS = `#!/bin/sh
# git asks "Username for '…': " first, then "Password for '…': ".
case "$1" in
  Username*) printf '%s\\n' "$GATEHOUSE_GIT_USERNAME" ;;
  *) printf '%s\\n' "$GATEHOUSE_GIT_PASSWORD" ;;
esac
`;

const TOKEN_LENGTH = 16;

/** Quotes for the shell that runs GIT_SSH_COMMAND. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Validates `auth` for the URL's transport and plans the private directory `dir`.
 * Throws MISSING_CREDENTIALS or INVALID_CREDENTIALS naming the Secret and key. */
export function planCredentials(
  url: GitUrl,
  auth: GitAuth | undefined,
  dir: string,
  timeoutMs: number,
): CredentialPlan {
  const home = join(dir, 'home');
  const plan: CredentialPlan = {
    files: [],
    // A private HOME and no system configuration: the host's ~/.gitconfig, credential
    // helpers and url rewrites cannot take part.
    env: { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
    config: [['credential.helper', '']],
    secrets: [],
    source: undefined,
  };
  const value = (field: CredentialField): string | undefined => auth?.[field] || undefined;
  const where = auth?.secretName ? `secret "${auth.secretName}"` : 'the Secret of spec.secretRef';
  if (Object.keys(SECRET_KEYS).some((field) => value(field as CredentialField))) plan.source = where;

  if (url.transport === 'ssh') {
    const identity = value('identity');
    const knownHosts = value('knownHosts');
    if (!plan.source)
      throw new GitError(
        'MISSING_CREDENTIALS',
        'spec.secretRef: an ssh URL needs a Secret with identity and known_hosts',
      );
    if (!knownHosts)
      throw new GitError(
        'MISSING_CREDENTIALS',
        `${where}: known_hosts is required for ssh URLs (host keys are never trusted on first use)`,
      );
    if (!identity)
      throw new GitError('MISSING_CREDENTIALS', `${where}: identity (a private key) is required for ssh URLs`);
    const identityFile = join(dir, 'identity');
    const knownHostsFile = join(dir, 'known_hosts');
    // OpenSSH refuses a key file whose last line has no newline.
    plan.files.push({ path: identityFile, content: identity.endsWith('\n') ? identity : `${identity}\n`, mode: 0o600 });
    plan.files.push({
      path: knownHostsFile,
      content: knownHosts.endsWith('\n') ? knownHosts : `${knownHosts}\n`,
      mode: 0o600,
    });
    plan.secrets.push(identity);
    const ssh = [
      'ssh',
      '-F',
      '/dev/null',
      '-i',
      shellQuote(identityFile),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'IdentityAgent=none',
      '-o',
      `UserKnownHostsFile=${shellQuote(knownHostsFile)}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'UpdateHostKeys=no',
      '-o',
      'BatchMode=yes',
      // A backstop only: the session deadline kills ssh first, so a hung connection is a
      // TIMEOUT over ssh as it is over http (where curl has no shorter connect timeout).
      '-o',
      `ConnectTimeout=${Math.ceil(timeoutMs / 1000) + 1}`,
    ];
    plan.env.GIT_SSH_COMMAND = ssh.join(' ');
    plan.env.GIT_SSH_VARIANT = 'ssh';
    return plan;
  }

  if (url.transport === 'file') return plan;

  const username = value('username');
  const password = value('password');
  const bearerToken = value('bearerToken');
  const ca = value('caCert');
  for (const [key, v] of [
    ['username', username],
    ['password', password],
    ['bearerToken', bearerToken],
  ] as const) {
    if (v && /[\r\n]/.test(v))
      throw new GitError(
        'INVALID_CREDENTIALS',
        `${where}: ${key} contains a line break (a trailing newline from a file?)`,
      );
  }
  if (bearerToken && (username || password))
    throw new GitError('INVALID_CREDENTIALS', `${where}: set username and password, or bearerToken, not both`);
  if (username && !password) throw new GitError('MISSING_CREDENTIALS', `${where}: password is required with username`);
  if (password && !username) throw new GitError('MISSING_CREDENTIALS', `${where}: username is required with password`);
  if (username && password) {
    const askpass = join(dir, 'askpass');
    plan.files.push({ path: askpass, content: ASKPASS, mode: 0o700 });
    plan.env.GIT_ASKPASS = askpass;
    plan.env.GATEHOUSE_GIT_USERNAME = username;
    plan.env.GATEHOUSE_GIT_PASSWORD = password;
    plan.secrets.push(password, Buffer.from(`${username}:${password}`).toString('base64'));
    // Some servers take a token as the username; one that long is scrubbed too (a short
    // one is a name, and scrubbing it would garble every message it occurs in).
    if (username.length >= TOKEN_LENGTH) plan.secrets.push(username);
  }
  if (bearerToken) {
    plan.config.push(['http.extraHeader', `Authorization: Bearer ${bearerToken}`]);
    plan.secrets.push(bearerToken);
  }
  if (ca) {
    const caFile = join(dir, 'ca.crt');
    plan.files.push({ path: caFile, content: ca, mode: 0o600 });
    plan.config.push(['http.sslCAInfo', caFile]);
  }
  return plan;
}

/** The GIT_CONFIG_COUNT / GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n variables for `config`. */
export function configEnv(config: CredentialPlan['config']): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(config.length) };
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}
