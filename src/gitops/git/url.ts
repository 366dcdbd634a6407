// Repository URLs. Accepted: https://, http://, ssh://[user@]host[:port]/path, the scp-like
// [user@]host:path (rewritten to ssh://, as Flux does: the path is taken from the root), and
// file:// (a local repository). Everything else — git://, ext::, bare paths, URLs with a
// password — is refused up front, so no transport helper of git's ever sees it.
import { GitError } from './errors.ts';

export type GitTransport = 'https' | 'http' | 'ssh' | 'file';

export interface GitUrl {
  transport: GitTransport;
  /** What git is given: scp-like addresses rewritten as ssh://, a missing ssh user as `git`. */
  url: string;
  /** Host name or address as written ('' for file://); IPv6 without brackets. */
  host: string;
  /** The ssh port (22 unless given); undefined for the other transports. */
  port: number | undefined;
}

const SCP_LIKE = /^(?:([^@/:\s]+)@)?([^@/:\s[\]]+|\[[^\]\s]+\]):(.+)$/;

/** Parses spec.url; throws INVALID_URL naming the field. */
export function parseGitUrl(raw: string): GitUrl {
  const fail = (reason: string): never => {
    throw new GitError('INVALID_URL', `spec.url "${redactUrl(raw)}": ${reason}`);
  };
  if (raw === '' || /\s/.test(raw)) fail('must be a URL without whitespace');
  // git reads "<transport>::<address>" as a remote helper (ext:: runs a command).
  if (/^[A-Za-z0-9+.-]+::/.test(raw)) fail('remote helper addresses ("transport::address") are not supported');
  if (!raw.includes('://')) {
    const scp = SCP_LIKE.exec(raw);
    if (!scp) fail('unsupported URL; use https://, http://, ssh://, user@host:path or file://');
    const [, user = 'git', host, path] = scp!;
    return sshUrl(`ssh://${user}@${host}${path.startsWith('/') ? '' : '/'}${path}`, fail);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('not a valid URL');
  }
  if (url.password) fail('must not contain a password; put credentials in the Secret of spec.secretRef');
  switch (url.protocol) {
    case 'https:':
    case 'http:':
      if (!url.hostname) fail('has no host');
      return { transport: url.protocol === 'https:' ? 'https' : 'http', url: raw, host: url.hostname, port: undefined };
    case 'ssh:':
      return sshUrl(url.username ? raw : raw.replace('ssh://', 'ssh://git@'), fail);
    case 'file:':
      if (url.hostname !== '' && url.hostname !== 'localhost') fail('a file URL names a local path (file:///path)');
      if (url.pathname === '/' || url.pathname === '') fail('has no path');
      return { transport: 'file', url: raw, host: '', port: undefined };
    default:
      return fail(`unsupported scheme "${url.protocol.slice(0, -1)}"; use https, http, ssh or file`);
  }
}

function sshUrl(text: string, fail: (reason: string) => never): GitUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('not a valid ssh address');
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) fail('has no host');
  // A host or user starting with "-" would be read by ssh as an option (CVE-2017-1000117).
  if (host.startsWith('-') || url.username.startsWith('-')) fail('host and user must not start with "-"');
  if (url.pathname === '/' || url.pathname === '') fail('has no repository path');
  return { transport: 'ssh', url: text, host, port: url.port ? Number(url.port) : 22 };
}

/** The URL with any password replaced, for messages. */
export function redactUrl(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/** How known_hosts names an ssh host: `host`, or `[host]:port` off port 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}
