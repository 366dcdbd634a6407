// Samples are what git 2.39 and OpenSSH 9.2 print in the C locale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, summarize } from './classify.ts';

const TAIL =
  'fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n';

const MISMATCH =
  '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n' +
  'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\r\nSomeone could be eavesdropping on you right now (man-in-the-middle attack)!\r\nIt is also possible that a host key has just been changed.\r\n' +
  'The fingerprint for the ED25519 key sent by the remote host is\nSHA256:FZRQXOmjj5StOkjxoA0r2gi3mvyYP7aNLkQ8rySzoIs.\r\nPlease contact your system administrator.\r\n' +
  'Add correct host key in /tmp/x/known_hosts to get rid of this message.\r\nOffending ED25519 key in /tmp/x/known_hosts:1\r\n  remove with:\r\n  ssh-keygen -f "/tmp/x/known_hosts" -R "[127.0.0.1]:38371"\r\n' +
  'Host key for [127.0.0.1]:38371 has changed and you have requested strict checking.\r\nHost key verification failed.\r\n' +
  TAIL;

test('a changed host key is HOST_KEY_MISMATCH with the fingerprint the server offered', () => {
  assert.deepEqual(classify(MISMATCH), {
    code: 'HOST_KEY_MISMATCH',
    fingerprint: 'SHA256:FZRQXOmjj5StOkjxoA0r2gi3mvyYP7aNLkQ8rySzoIs',
  });
});

test('stderr samples map to their codes', () => {
  const samples: [string, string][] = [
    [
      `No ED25519 host key is known for [127.0.0.1]:38371 and you have requested strict checking.\r\nHost key verification failed.\r\n${TAIL}`,
      'HOST_KEY_UNKNOWN',
    ],
    [
      `Load key "/tmp/x/identity": error in libcrypto\r\ngit@127.0.0.1: Permission denied (publickey).\r\n${TAIL}`,
      'INVALID_CREDENTIALS',
    ],
    [
      `Load key "/tmp/x/identity": invalid format\r\ngit@127.0.0.1: Permission denied (publickey).\r\n${TAIL}`,
      'INVALID_CREDENTIALS',
    ],
    [`git@127.0.0.1: Permission denied (publickey).\r\n${TAIL}`, 'AUTH_FAILED'],
    [
      "remote: authentication required\nfatal: Authentication failed for 'http://127.0.0.1:43141/app/'\n",
      'AUTH_FAILED',
    ],
    ["fatal: could not read Username for 'http://127.0.0.1:43141': terminal prompts disabled\n", 'AUTH_FAILED'],
    ["fatal: unable to access 'https://example.com/app/': The requested URL returned error: 403\n", 'AUTH_FAILED'],
    [
      "fatal: unable to access 'https://127.0.0.1:39889/app/': server certificate verification failed. CAfile: none CRLfile: none\n",
      'TLS_FAILED',
    ],
    [
      "fatal: unable to access 'https://example.com/app/': SSL certificate problem: self-signed certificate\n",
      'TLS_FAILED',
    ],
    [`fatal: '/srv/nope' does not appear to be a git repository\n${TAIL}`, 'REPOSITORY_NOT_FOUND'],
    ["fatal: repository 'http://127.0.0.1:38753/nope/' not found\n", 'REPOSITORY_NOT_FOUND'],
    ["fatal: couldn't find remote ref refs/heads/nope\n", 'REF_NOT_FOUND'],
    [`fatal: remote error: upload-pack: not our ref ${'1'.repeat(40)}\n`, 'REF_NOT_FOUND'],
    [`error: Server does not allow request for unadvertised object ${'1'.repeat(40)}\n`, 'REF_NOT_FOUND'],
    [
      "fatal: unable to access 'http://127.0.0.1:42795/app/': Failed to connect to 127.0.0.1 port 42795 after 0 ms: Couldn't connect to server\n",
      'HOST_UNREACHABLE',
    ],
    [`ssh: connect to host 127.0.0.1 port 42795: Connection refused\r\n${TAIL}`, 'HOST_UNREACHABLE'],
    [`ssh: Could not resolve hostname nowhere.invalid: Name or service not known\r\n${TAIL}`, 'HOST_UNREACHABLE'],
    [
      "fatal: unable to access 'https://nowhere.invalid/app/': Could not resolve host: nowhere.invalid\n",
      'HOST_UNREACHABLE',
    ],
    ['fatal: bad object HEAD\n', 'GIT_FAILED'],
    ['', 'GIT_FAILED'],
  ];
  for (const [stderr, code] of samples) assert.equal(classify(stderr).code, code, stderr);
});

test('summaries keep the telling lines and drop banners and boilerplate', () => {
  assert.equal(
    summarize(`git@127.0.0.1: Permission denied (publickey).\r\n${TAIL}`),
    'git@127.0.0.1: Permission denied (publickey).',
  );
  assert.equal(summarize('hint: try this\nline 1\nline 2\nline 3\nline 4\n'), 'line 2; line 3; line 4');
  assert.doesNotMatch(summarize(MISMATCH), /@@@|WARNING/);
});

test('paths inside the private directory of an attempt are shown by their name in it', () => {
  const attempt = (dir: string) =>
    `fatal: unable to access 'https://127.0.0.1:4443/web/': server certificate verification failed. ` +
    `CAfile: ${dir}/ca.crt CRLfile: none\n`;
  const first = summarize(attempt('/tmp/gatehouse-git-EIuMvY'), '/tmp/gatehouse-git-EIuMvY');
  assert.equal(
    first,
    "fatal: unable to access 'https://127.0.0.1:4443/web/': server certificate verification failed. " +
      'CAfile: ca.crt CRLfile: none',
  );
  assert.equal(summarize(attempt('/tmp/gatehouse-git-76jB7g'), '/tmp/gatehouse-git-76jB7g'), first);
});

test("curl's elapsed time and byte counts are left out", () => {
  const refused = (ms: number) =>
    `fatal: unable to access 'http://127.0.0.1:1/r/': Failed to connect to 127.0.0.1 port 1 after ${ms} ms: ` +
    "Couldn't connect to server\n";
  assert.equal(
    summarize(refused(0)),
    "fatal: unable to access 'http://127.0.0.1:1/r/': Failed to connect to 127.0.0.1 port 1: " +
      "Couldn't connect to server",
  );
  assert.equal(summarize(refused(3002)), summarize(refused(0)));
  const slow = (ms: number, got: number) =>
    `fatal: unable to access 'https://h/r/': Operation timed out after ${ms} milliseconds ` +
    `with ${got} out of 0 bytes received\n`;
  assert.equal(summarize(slow(10001, 0)), "fatal: unable to access 'https://h/r/': Operation timed out");
  assert.equal(summarize(slow(10002, 512)), summarize(slow(10001, 0)));
});
