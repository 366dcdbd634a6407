// Signature verification of a fetched commit or tag (GitRepository spec.verify) with the
// system git: `git verify-commit` / `git verify-tag` against a private GNUPGHOME holding only
// the trusted OpenPGP keys and an allowed-signers file holding only the trusted SSH keys.
// git picks gpg or ssh-keygen from the signature itself, so one path checks both formats,
// and nothing of the host's keyrings, agent or git config takes part.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactSignature, GitRepositoryVerification } from '../../api/kinds/git-repository/types.ts';
import { configEnv } from './credentials.ts';
import { GitError } from './errors.ts';
import { programEnv, run } from './process.ts';

/** The trusted keys of spec.verify.secretRef, by Secret key (Flux's `.asc` for OpenPGP; `.pub` or
 * `allowed_signers` for SSH), and the Secret's name for messages. */
export interface TrustedKeys {
  secret: string;
  data: Record<string, string>;
}

export interface VerifyOptions {
  mode: GitRepositoryVerification['mode'];
  keys: TrustedKeys;
}

/** What is checked in `gitDir`: the commit, and the tag ref when spec.ref names a tag. */
export interface VerifyTarget {
  gitDir: string;
  commit: string;
  /** The fetched ref of an annotated tag; undefined when spec.ref is no tag. */
  tagRef: string | undefined;
  /** How messages name the tag (`tag "v1"`). */
  tagName: string | undefined;
}

/** Verifies what `mode` asks for; resolves with the signature recorded in status.artifact (the
 * commit's, or the tag's in Tag mode); throws VERIFICATION_FAILED naming the object and the key. */
export async function verifySignatures(
  options: VerifyOptions,
  target: VerifyTarget,
  signal: AbortSignal,
): Promise<ArtifactSignature> {
  const { mode, keys } = options;
  if (mode !== 'HEAD' && !target.tagRef)
    throw new GitError('INVALID_REF', `spec.verify.mode ${mode} needs spec.ref.tag or spec.ref.semver`);
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-verify-'));
  try {
    const env = await trustEnv(dir, keys, signal);
    const check = async (of: 'commit' | 'tag', object: string, name: string) => {
      const result = await run('git', [`verify-${of}`, '--raw', object], { env, cwd: target.gitDir, signal });
      if (result.aborted) throw new GitError('TIMEOUT', `git verify-${of}: did not finish in time (spec.timeout)`);
      const seen = parseVerifyOutput(result.stderr);
      if (result.exitCode === 0 && seen.key) return { of, type: seen.type, key: seen.key, signer: seen.signer };
      const why = seen.key
        ? `is signed with untrusted ${seen.type} key ${seen.key}${seen.signer ? ` (${seen.signer})` : ''}`
        : seen.unsigned
          ? 'is not signed'
          : `has a signature that does not verify: ${lastLine(result.stderr)}`;
      throw new GitError(
        'VERIFICATION_FAILED',
        `${name} ${why}; trusted keys: Secret "${keys.secret}" (spec.verify.secretRef)`,
        seen.key ? { fingerprint: seen.key } : {},
      );
    };
    const commit = () => check('commit', target.commit, `commit ${target.commit}`);
    const tag = () => check('tag', target.tagRef!, `${target.tagName} (commit ${target.commit})`);
    if (mode === 'Tag') return await tag();
    if (mode === 'TagAndHEAD') await tag();
    return await commit();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** git's environment with only `keys` trusted: a GNUPGHOME in `dir` holding the `.asc` keys, and an
 * allowed-signers file of the SSH keys (empty when there are none, as git requires one for ssh). */
async function trustEnv(dir: string, keys: TrustedKeys, signal: AbortSignal): Promise<NodeJS.ProcessEnv> {
  const gnupgHome = join(dir, 'gnupg');
  const allowed = join(dir, 'allowed_signers');
  const env = programEnv({
    HOME: dir,
    GNUPGHOME: gnupgHome,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    ...configEnv([['gpg.ssh.allowedSignersFile', allowed]]),
  });
  const lines: string[] = [];
  const armored: string[] = [];
  for (const [name, value] of Object.entries(keys.data)) {
    if (name.endsWith('.asc')) armored.push(value);
    else if (name === 'allowed_signers') lines.push(value.trim());
    else if (name.endsWith('.pub')) lines.push(`${name.slice(0, -'.pub'.length)} ${value.trim()}`);
  }
  if (!armored.length && !lines.length)
    throw new GitError(
      'MISSING_CREDENTIALS',
      `Secret "${keys.secret}" (spec.verify.secretRef) holds no trusted key: no *.asc, *.pub or allowed_signers`,
    );
  await writeFile(allowed, lines.length ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
  await mkdir(gnupgHome, { mode: 0o700 });
  if (armored.length) {
    const args = ['--batch', '--no-tty', '--quiet', '--no-autostart', '--import'];
    const result = await run('gpg', args, { env, signal, input: armored.join('\n') });
    if (result.exitCode !== 0)
      throw new GitError(
        'INVALID_CREDENTIALS',
        `Secret "${keys.secret}" (spec.verify.secretRef): gpg cannot import its *.asc keys: ${lastLine(result.stderr)}`,
      );
  }
  return env;
}

/** The signature git reported in `--raw` output: gpg's status lines or ssh-keygen's message. */
export function parseVerifyOutput(stderr: string): {
  type: 'openpgp' | 'ssh';
  key?: string;
  signer?: string;
  /** git found no signature at all (it prints nothing for a commit, "no signature found" for a tag). */
  unsigned?: boolean;
} {
  const status = (word: string) => new RegExp(`^\\[GNUPG:\\] ${word} (.*)$`, 'm').exec(stderr)?.[1]?.split(' ');
  const valid = status('VALIDSIG');
  if (valid) return { type: 'openpgp', key: valid[0], signer: status('GOODSIG')?.slice(1).join(' ') };
  const err = status('ERRSIG');
  if (err) return { type: 'openpgp', key: err[6] || err[0] };
  const bad = status('BADSIG') ?? status('EXPKEYSIG') ?? status('REVKEYSIG');
  if (bad) return { type: 'openpgp', key: bad[0], signer: bad.slice(1).join(' ') };
  const ssh = /signature(?: for (\S+))? with \S+ key (SHA256:[A-Za-z0-9+/=]+)/.exec(stderr);
  if (ssh) return { type: 'ssh', key: ssh[2], signer: ssh[1] };
  const unsigned = !stderr.trim() || /no signature found/.test(stderr);
  return { type: /ssh/i.test(stderr) ? 'ssh' : 'openpgp', unsigned };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
