// What `git verify-commit --raw` / `git verify-tag --raw` print, as gpg 2.2 and OpenSSH 9 write it, read into
// the key and signer that messages and status.artifact.signature show.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseVerifyOutput } from './verify.ts';

const FPR = 'FB8D5B8DD8A80E3B14C16C2A945E4E7C24B394B1';

test('a good OpenPGP signature gives the fingerprint and the user id', () => {
  const out = [
    '[GNUPG:] NEWSIG alice@example.com',
    '[GNUPG:] GOODSIG 945E4E7C24B394B1 Alice <alice@example.com>',
    `[GNUPG:] VALIDSIG ${FPR} 2026-12-03 1796327494 0 4 0 22 8 00 ${FPR}`,
    '[GNUPG:] TRUST_UNDEFINED 0 pgp',
  ].join('\n');
  assert.deepEqual(parseVerifyOutput(out), { type: 'openpgp', key: FPR, signer: 'Alice <alice@example.com>' });
});

test('an OpenPGP key not in the keyring is named by its fingerprint, or its key id from an older gpg', () => {
  const errsig = '[GNUPG:] ERRSIG CF913DF4A6C8E9C8 22 8 00 1796327494 9';
  assert.deepEqual(parseVerifyOutput(`${errsig} ${FPR}\n[GNUPG:] NO_PUBKEY CF913DF4A6C8E9C8`), {
    type: 'openpgp',
    key: FPR,
  });
  assert.deepEqual(parseVerifyOutput(errsig), { type: 'openpgp', key: 'CF913DF4A6C8E9C8' });
});

test('a bad or expired-key OpenPGP signature names the key', () => {
  const bad = parseVerifyOutput('[GNUPG:] BADSIG 945E4E7C24B394B1 Alice <alice@example.com>');
  assert.deepEqual(bad, { type: 'openpgp', key: '945E4E7C24B394B1', signer: 'Alice <alice@example.com>' });
  assert.equal(parseVerifyOutput('[GNUPG:] EXPKEYSIG 945E4E7C24B394B1 Alice').key, '945E4E7C24B394B1');
});

test('SSH signatures give the key fingerprint, and the principal when one matched', () => {
  const key = 'SHA256:nGNqcNyxHfm6x7EmsSOFCi3a550xU6GoQg4UB1LgXiU';
  assert.deepEqual(parseVerifyOutput(`Good "git" signature for alice with ED25519 key ${key}\n`), {
    type: 'ssh',
    key,
    signer: 'alice',
  });
  assert.deepEqual(parseVerifyOutput(`Good "git" signature with ED25519 key ${key}\nNo principal matched.\n`), {
    type: 'ssh',
    key,
    signer: undefined,
  });
});

test('no signature is told apart from one that cannot be read', () => {
  assert.equal(parseVerifyOutput('').unsigned, true);
  assert.equal(parseVerifyOutput('error: no signature found\n').unsigned, true);
  assert.equal(parseVerifyOutput('Could not verify signature.\n').unsigned, false);
});
