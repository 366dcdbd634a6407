// The shared secret of a Receiver: the `token` key of its Secret, used byte for byte. A
// token with a line break or blank at either end is refused, not trimmed: the Git host
// signs with the token exactly as it was typed there, which never ends in a newline, so
// such a token (what `echo $TOKEN > token` and `kubectl create secret … --from-file=token`
// make) would fail every signature without a word. Refusing it puts the cause in the Receiver's status, as
// GitRepository credentials with a line break are refused (INVALID_CREDENTIALS).
import type { Secret } from '../../api/core/secret/index.ts';

/** Why a Receiver's token cannot be used (Receiver condition reasons). */
export type TokenProblem = 'SecretNotFound' | 'TokenMissing' | 'InvalidToken';

export type TokenRead = { ok: true; token: string } | { ok: false; reason: TokenProblem; message: string };

/** The token of `secret` (undefined when there is no such Secret), named `namespace/name`
 * in messages; messages never carry the token. */
export function readToken(secret: Secret | undefined, namespace: string, name: string): TokenRead {
  const id = `Secret ${namespace}/${name}`;
  if (!secret) return { ok: false, reason: 'SecretNotFound', message: `${id} named by spec.secretRef not found` };
  const value = secret.data?.token;
  if (value === undefined) return { ok: false, reason: 'TokenMissing', message: `${id} has no token key` };
  const token = Buffer.from(value, 'base64').toString('utf8');
  if (!token) return { ok: false, reason: 'TokenMissing', message: `${id}: token is empty` };
  if (token.trim() !== token) {
    const where = /\s$/.test(token) ? 'ends' : 'starts';
    return {
      ok: false,
      reason: 'InvalidToken',
      message:
        `${id}: token ${where} with a line break or blank (a trailing newline from echo or a file?); ` +
        'Git hosts sign with the token as typed, so every call would fail: store it without ' +
        '(printf %s, --from-literal)',
    };
  }
  return { ok: true, token };
}
