// A session is the life of one Git operation against one remote: a private directory with
// the credential files, the environment built from them, one deadline for every command
// run in it, and the translation of a failed command into a GitError. The directory is
// removed when the session ends, whatever happened.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classify, summarize } from './classify.ts';
import { configEnv, planCredentials, type GitAuth } from './credentials.ts';
import { GitError, scrub, type GitErrorCode } from './errors.ts';
import { scanHostKey } from './host-key.ts';
import { programEnv, run, type RunOptions, type RunResult } from './process.ts';
import { knownHostsName, redactUrl, type GitUrl } from './url.ts';

export interface GitCommandOptions {
  cwd?: string;
  input?: string;
  consume?: RunOptions['consume'];
  /** What a REF_NOT_FOUND is about, for its message: `branch "main"`, `commit 1a2b…`. */
  ref?: string;
}

export interface GitSession {
  readonly url: GitUrl;
  /** Runs git; resolves with its stdout; throws a GitError when it fails or times out. */
  git(args: string[], options?: GitCommandOptions): Promise<string>;
  /** Runs git for its exit status: whether it exited 0. Throws only TIMEOUT. */
  succeeds(args: string[], options?: { cwd?: string }): Promise<boolean>;
}

/** Runs `body` with a session for `url`; `timeoutMs` bounds everything `body` runs. */
export async function withGitSession<T>(
  url: GitUrl,
  auth: GitAuth | undefined,
  timeoutMs: number,
  body: (session: GitSession) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-git-'));
  try {
    const plan = planCredentials(url, auth, dir, timeoutMs);
    await mkdir(join(dir, 'home'), { mode: 0o700 });
    for (const file of plan.files) await writeFile(file.path, file.content, { mode: file.mode, flag: 'wx' });
    const env = programEnv({ ...plan.env, ...configEnv(plan.config) });
    const caGiven = plan.config.some(([key]) => key === 'http.sslCAInfo');
    return await body(new Session(url, { source: plan.source, caGiven, dir }, env, plan.secrets, timeoutMs));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What a session's messages say about its credentials. */
interface SessionOrigin {
  /** Where the credentials come from (`secret "git-auth"`); undefined without any. */
  source: string | undefined;
  /** The Secret gave ca.crt, so a certificate that does not verify does not verify against it. */
  caGiven: boolean;
  /** The session's private directory, left out of messages (its name changes every time). */
  dir: string;
}

class Session implements GitSession {
  readonly #signal: AbortSignal;

  constructor(
    readonly url: GitUrl,
    private readonly origin: SessionOrigin,
    private readonly env: NodeJS.ProcessEnv,
    private readonly secrets: readonly string[],
    private readonly timeoutMs: number,
  ) {
    this.#signal = AbortSignal.timeout(timeoutMs);
  }

  async git(args: string[], options: GitCommandOptions = {}): Promise<string> {
    const result = await run('git', args, {
      env: this.env,
      signal: this.#signal,
      cwd: options.cwd,
      input: options.input,
      consume: options.consume,
    });
    if (result.exitCode === 0 && !result.aborted) return result.stdout;
    throw await this.failure(args, result, options.ref);
  }

  async succeeds(args: string[], options: { cwd?: string } = {}): Promise<boolean> {
    const result = await run('git', args, { env: this.env, signal: this.#signal, cwd: options.cwd });
    if (result.aborted) throw await this.failure(args, result);
    return result.exitCode === 0;
  }

  private async failure(args: string[], result: RunResult, ref?: string): Promise<GitError> {
    const command = `git ${args[0]}${args.includes(this.url.url) ? ` ${redactUrl(this.url.url)}` : ''}`;
    if (result.aborted)
      return new GitError('TIMEOUT', `${command}: did not finish within ${this.timeoutMs} ms (spec.timeout)`);
    // Classified as printed (a scrubbed value could break a pattern); shown only scrubbed.
    const { code, fingerprint } = classify(result.stderr);
    const detail = summarize(scrub(result.stderr, this.secrets), this.origin.dir);
    const secret = this.origin.source;
    const ssh = this.url.transport === 'ssh' ? knownHostsName(this.url.host, this.url.port!) : this.url.host;
    switch (code) {
      case 'HOST_KEY_MISMATCH':
        return new GitError(
          code,
          `${command}: host key mismatch: the host key of ${ssh} does not match known_hosts of ${secret}: the server offered ${fingerprint ?? 'another key'}; refusing to connect (the server was re-keyed or replaced, or the connection is intercepted)`,
          { fingerprint },
        );
      case 'HOST_KEY_UNKNOWN': {
        const offered = await scanHostKey(this.url.host, this.url.port!, {
          timeoutMs: Math.min(5_000, this.timeoutMs),
        }).catch(() => undefined);
        const advice = offered
          ? `the server offers ${offered.fingerprint}; if that is the right key, add "${offered.knownHostsLine}" to known_hosts`
          : 'add its key after checking it';
        return new GitError(
          code,
          `${command}: unknown host key: known_hosts of ${secret} has no key for ${ssh}; refusing to connect: ${advice}`,
          { fingerprint: offered?.fingerprint },
        );
      }
      default:
        return new GitError(
          code,
          `${command}: ${explain(code, { ref, secret, host: ssh, caGiven: this.origin.caGiven })}${detail ? `: ${detail}` : ''}`,
        );
    }
  }
}

type Explained = Exclude<GitErrorCode, 'HOST_KEY_MISMATCH' | 'HOST_KEY_UNKNOWN'>;

function explain(code: Explained, about: { ref?: string; secret?: string; host: string; caGiven: boolean }): string {
  switch (code) {
    case 'HOST_UNREACHABLE':
      return `cannot reach ${about.host}`;
    case 'TLS_FAILED':
      return about.caGiven
        ? `the server certificate does not verify against ca.crt of ${about.secret} (is it the CA that signs the server's certificate?)`
        : 'the server certificate does not verify (for a private CA, put its certificate in ca.crt of the Secret)';
    case 'AUTH_FAILED':
      return about.secret
        ? `authentication failed with the credentials of ${about.secret}`
        : 'authentication required: set spec.secretRef';
    case 'INVALID_CREDENTIALS':
      return `identity of ${about.secret} is not a usable private key (it must be unencrypted, OpenSSH or PEM format)`;
    case 'REPOSITORY_NOT_FOUND':
      return 'repository not found (or no access to it)';
    case 'REF_NOT_FOUND':
      return `${about.ref ?? 'ref'} not found`;
    case 'INVALID_URL':
    case 'INVALID_REF':
    case 'MISSING_CREDENTIALS':
    case 'TIMEOUT':
    case 'VERIFICATION_FAILED':
    case 'GIT_FAILED':
      return 'failed';
  }
}
