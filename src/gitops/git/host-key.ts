// Reading an ssh server's host key, for a person to confirm (`gatehouse create secret git`
// without a known_hosts file prints the fingerprint) and to name the key a server offered
// when known_hosts has none for it. Nothing here trusts the key: it is only reported.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize } from './classify.ts';
import { GitError } from './errors.ts';
import { programEnv, run } from './process.ts';
import { knownHostsName } from './url.ts';

export interface HostKey {
  /** `[host]:port type base64` (plain `host` on port 22), ready for a known_hosts file. */
  knownHostsLine: string;
  /** `SHA256:…`, as ssh and ssh-keygen -l print it. */
  fingerprint: string;
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, … */
  keyType: string;
}

export interface ScanOptions {
  /** Default 10 s. */
  timeoutMs?: number;
}

/** `SHA256:` and the unpadded base64 SHA-256 of the key blob (`base64Key` as in known_hosts). */
export function fingerprintOf(base64Key: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(base64Key, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

// ssh's own preference among key types, strongest and most common first.
const PREFERENCE = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

/** The host key of `host:port`, with ssh-keyscan, or — where it is not installed — by
 * letting ssh itself record the key it is offered (it then fails to log in, harmlessly). */
export async function scanHostKey(host: string, port = 22, options: ScanOptions = {}): Promise<HostKey> {
  try {
    return await scanWithKeyscan(host, port, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return scanWithSsh(host, port, options);
  }
}

/** Fails with ENOENT (a plain system error) when ssh-keyscan is not installed. */
export async function scanWithKeyscan(host: string, port: number, options: ScanOptions = {}): Promise<HostKey> {
  checkHost(host, port);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const result = await run(
    'ssh-keyscan',
    ['-T', String(Math.max(1, Math.ceil(timeoutMs / 1000))), '-p', String(port), host],
    {
      env: programEnv(),
      signal: AbortSignal.timeout(timeoutMs),
    },
  );
  const keys = result.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 3 && !fields[0].startsWith('#'))
    .map((fields) => ({ type: fields[1], key: fields[2] }));
  keys.sort((a, b) => rank(a.type) - rank(b.type));
  if (keys.length === 0) throw scanError(host, port, result.stderr, result.aborted, timeoutMs);
  return hostKey(host, port, keys[0].type, keys[0].key);
}

export async function scanWithSsh(host: string, port: number, options: ScanOptions = {}): Promise<HostKey> {
  checkHost(host, port);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-hostkey-'));
  try {
    const knownHosts = join(dir, 'known_hosts');
    // accept-new records the key into our scratch file; no login method is enabled, so the
    // connection ends right after the key exchange.
    const result = await run(
      'ssh',
      [
        '-F',
        '/dev/null',
        '-o',
        'StrictHostKeyChecking=accept-new',
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'HashKnownHosts=no',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentityAgent=none',
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'PasswordAuthentication=no',
        '-o',
        'KbdInteractiveAuthentication=no',
        '-o',
        'GSSAPIAuthentication=no',
        '-o',
        'HostbasedAuthentication=no',
        '-o',
        `ConnectTimeout=${Math.max(1, Math.ceil(timeoutMs / 1000))}`,
        '-p',
        String(port),
        '-l',
        'git',
        host,
        'true',
      ],
      { env: programEnv({ HOME: dir }), signal: AbortSignal.timeout(timeoutMs) },
    );
    const recorded = await readFile(knownHosts, 'utf8').catch(() => '');
    const fields = recorded.trim().split('\n')[0]?.split(/\s+/) ?? [];
    if (fields.length < 3) throw scanError(host, port, result.stderr, result.aborted, timeoutMs, dir);
    return hostKey(host, port, fields[1], fields[2]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function rank(type: string): number {
  const i = PREFERENCE.indexOf(type);
  return i === -1 ? PREFERENCE.length : i;
}

function hostKey(host: string, port: number, keyType: string, key: string): HostKey {
  return {
    knownHostsLine: `${knownHostsName(host, port)} ${keyType} ${key}`,
    fingerprint: fingerprintOf(key),
    keyType,
  };
}

function checkHost(host: string, port: number): void {
  if (!host || host.startsWith('-') || /\s/.test(host))
    throw new GitError('INVALID_URL', `host "${host}": not a host name or address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new GitError('INVALID_URL', `port ${port}: not a TCP port`);
}

/** No key came back: nothing answered as an ssh server there (ssh-keyscan says nothing
 * about why, ssh does). `privateDir` is the scratch directory ssh was pointed at. */
function scanError(
  host: string,
  port: number,
  stderr: string,
  aborted: boolean,
  timeoutMs: number,
  privateDir?: string,
): GitError {
  const where = knownHostsName(host, port);
  if (aborted) return new GitError('TIMEOUT', `no ssh host key from ${where} within ${timeoutMs} ms`);
  const detail = summarize(stderr, privateDir);
  return new GitError(
    'HOST_UNREACHABLE',
    `no ssh host key from ${where} (is an ssh server listening there?)${detail ? `: ${detail}` : ''}`,
  );
}
