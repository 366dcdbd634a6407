// What went wrong, read from git's and ssh's stderr (in the C locale; see programEnv).
// This is the one place that reads tool message text: everything above it branches on
// the GitErrorCode it returns. Rules are tried in order, most specific first — an ssh
// host-key warning also ends in "Could not read from remote repository".
import type { GitErrorCode } from './errors.ts';

export interface Classification {
  code: GitErrorCode;
  /** `SHA256:…` the ssh server offered, when stderr shows it. */
  fingerprint?: string;
}

const RULES: ReadonlyArray<[GitErrorCode, RegExp]> = [
  ['HOST_KEY_MISMATCH', /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/],
  ['HOST_KEY_UNKNOWN', /No \S+ host key is known for|Host key verification failed/],
  ['INVALID_CREDENTIALS', /Load key "[^"]*": (?:invalid format|error in libcrypto|incorrect passphrase)/],
  [
    'AUTH_FAILED',
    /Permission denied \(|Authentication failed for|could not read (?:Username|Password) for|returned error: 40[13]/,
  ],
  [
    'TLS_FAILED',
    /SSL certificate problem|server certificate verification failed|unable to get local issuer certificate|no alternative certificate subject name|certificate verify failed/,
  ],
  ['REPOSITORY_NOT_FOUND', /does not appear to be a git repository|repository '[^']*' not found|Repository not found/i],
  ['REF_NOT_FOUND', /couldn't find remote ref|not our ref|unadvertised object|no such remote ref/],
  [
    'HOST_UNREACHABLE',
    /Could not resolve host|Connection refused|Failed to connect to|Couldn't connect to server|No route to host|Network is unreachable|Connection timed out|kex_exchange_identification|Connection reset by peer|Connection closed by/,
  ],
];

export function classify(stderr: string): Classification {
  for (const [code, pattern] of RULES) {
    if (!pattern.test(stderr)) continue;
    if (code !== 'HOST_KEY_MISMATCH') return { code };
    // "The fingerprint for the ED25519 key sent by the remote host is\nSHA256:….\n"
    const fingerprint = /sent by the remote host is\s+(SHA256:[A-Za-z0-9+/]+)/.exec(stderr)?.[1];
    return fingerprint ? { code, fingerprint } : { code };
  }
  return { code: 'GIT_FAILED' };
}

/** What curl adds that differs on every attempt: " after 3002 ms", " after 10001 milliseconds
 * with 0 out of 0 bytes received". */
const PER_ATTEMPT = / after \d+ (?:ms|milliseconds)(?: with \d+ (?:out of -?\d+ )?bytes received)?/g;

/** The lines of stderr worth showing a person: no ssh warning banners, hints or blanks,
 * at most the last few, on one line. A path inside `privateDir` (an operation's temporary
 * directory, named anew on every attempt) is shown by its name inside it ("CAfile: ca.crt"),
 * and curl's elapsed times and byte counts are left out, so one failure repeated gives one
 * message: Events aggregate and status is not rewritten. */
export function summarize(stderr: string, privateDir?: string, maxLines = 3): string {
  const text = (privateDir ? stderr.replaceAll(`${privateDir}/`, '').replaceAll(privateDir, '.') : stderr).replace(
    PER_ATTEMPT,
    '',
  );
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(
      (l) =>
        l &&
        !l.startsWith('@') &&
        !l.startsWith('hint:') &&
        !/^(fatal: )?Could not read from remote repository|^Please make sure you have the correct access rights|^and the repository exists/.test(
          l,
        ),
    );
  return lines.slice(-maxLines).join('; ');
}
