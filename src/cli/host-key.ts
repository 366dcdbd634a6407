// Host keys for `gatehouse create secret git` without a known-hosts file: the key is
// scanned and shown, and only a person (at a prompt) or an explicit --host-key-fingerprint
// can accept it — never trust on first use.
import { createInterface } from 'node:readline/promises';
import { parseGitUrl, scanHostKey } from '../gitops/git/index.ts';

/** The known_hosts line of `url`'s host once it is confirmed. */
export async function hostKeyOf(
  url: string,
  expectedFingerprint: string | undefined,
  progress: (line: string) => void,
): Promise<string> {
  const { host, port } = parseGitUrl(url);
  const key = await scanHostKey(host, port ?? 22);
  progress(`► ${host}:${port ?? 22} offers ${key.keyType} key ${key.fingerprint}`);
  if (expectedFingerprint !== undefined) {
    if (expectedFingerprint !== key.fingerprint)
      throw new Error(
        `host key of ${host}:${port ?? 22} is ${key.fingerprint}, not the ${expectedFingerprint} given with --host-key-fingerprint`,
      );
    return `${key.knownHostsLine}\n`;
  }
  if (!process.stdin.isTTY) {
    throw new Error(
      `confirm the host key of ${host}:${port ?? 22} with --host-key-fingerprint ${key.fingerprint} (check it with the Git host first), or give --known-hosts-file`,
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`Is ${key.fingerprint} the host key of ${host}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new Error('host key not confirmed; nothing stored');
  } finally {
    prompt.close();
  }
  return `${key.knownHostsLine}\n`;
}
