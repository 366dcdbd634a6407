// The one error the Git layer throws. Callers (the GitRepository reconciler, the CLI)
// branch on `code`; the message is for people and names the URL, host, ref or Secret key
// at fault. Messages never carry secret values: whatever git or ssh printed is scrubbed of
// them first (see `scrub`).

export type GitErrorCode =
  /** spec.url is not an https, http, ssh, scp-like or file URL, or carries a password. */
  | 'INVALID_URL'
  /** spec.ref is malformed: a branch or tag name git refuses, a bad SemVer range, a commit that is not a full SHA-1. */
  | 'INVALID_REF'
  /** The transport needs a Secret key that is absent (known_hosts and identity for ssh, the other half of username/password). */
  | 'MISSING_CREDENTIALS'
  /** Secret keys conflict (basic auth and bearerToken), hold line breaks, or identity is not a usable private key. */
  | 'INVALID_CREDENTIALS'
  /** The host cannot be resolved or connected to. */
  | 'HOST_UNREACHABLE'
  /** The https server's certificate does not verify (a private CA needs ca.crt). */
  | 'TLS_FAILED'
  /** known_hosts has no key for the ssh host: never trusted on first use. */
  | 'HOST_KEY_UNKNOWN'
  /** The ssh host offered a key other than the one in known_hosts. */
  | 'HOST_KEY_MISMATCH'
  /** The server refused the credentials, or wanted some and none were given. */
  | 'AUTH_FAILED'
  /** The server has no repository at that path (some servers answer this for "no access" too). */
  | 'REPOSITORY_NOT_FOUND'
  /** The branch, tag, SemVer range or commit is not in the repository. */
  | 'REF_NOT_FOUND'
  /** The operation did not finish within spec.timeout; its processes were killed. */
  | 'TIMEOUT'
  /** spec.verify: the commit or tag is unsigned, or signed by a key the verify Secret does not hold. */
  | 'VERIFICATION_FAILED'
  /** Anything else git reported. */
  | 'GIT_FAILED';

export class GitError extends Error {
  override readonly name = 'GitError';
  readonly code: GitErrorCode;
  /** `SHA256:…` of the key the ssh server offered (HOST_KEY_MISMATCH, HOST_KEY_UNKNOWN when known); the
   * signing key's fingerprint (VERIFICATION_FAILED of a signed object). */
  readonly fingerprint: string | undefined;

  constructor(code: GitErrorCode, message: string, options: { fingerprint?: string } = {}) {
    super(message);
    this.code = code;
    this.fingerprint = options.fingerprint;
  }
}

export function isGitError(err: unknown, code?: GitErrorCode): err is GitError {
  return err instanceof GitError && (code === undefined || err.code === code);
}

/** `text` with every occurrence of every secret replaced by `***`, longest secret first so
 * that a secret containing another is removed whole. Multi-line secrets (private keys) are
 * also removed line by line, in case a tool echoes one line of them. */
export function scrub(text: string, secrets: readonly string[]): string {
  const pieces = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    pieces.add(secret);
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 8) pieces.add(line.trim());
  }
  let out = text;
  for (const piece of [...pieces].sort((a, b) => b.length - a.length)) out = out.split(piece).join('***');
  return out;
}
