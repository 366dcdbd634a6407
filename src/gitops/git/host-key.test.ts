import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPortUrl } from '../../../test/support/gateway.ts';
import { makeClientKey, startSshGitServer, type SshGitServer } from '../../../test/support/git-servers.ts';
import { fingerprintOf, scanHostKey, scanWithKeyscan, scanWithSsh } from './host-key.ts';

let root: string;
let server: SshGitServer;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-hostkey-test-'));
  server = await startSshGitServer({ repoRoot: root, authorizedKeys: [makeClientKey().publicKey] });
});
after(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

test('the fingerprint is the one ssh-keygen computes', () => {
  const key = server.knownHostsLine.split(' ')[2];
  assert.equal(fingerprintOf(key), server.fingerprint);
});

for (const [name, scan] of [
  ['scanHostKey', scanHostKey],
  ['ssh-keyscan', scanWithKeyscan],
  ['ssh accept-new', scanWithSsh],
] as const) {
  test(`${name} reads the server's host key as a known_hosts line`, async () => {
    const key = await scan('127.0.0.1', server.port);
    assert.deepEqual(key, {
      knownHostsLine: server.knownHostsLine,
      fingerprint: server.fingerprint,
      keyType: 'ssh-ed25519',
    });
  });

  test(`${name}: nothing listening is HOST_UNREACHABLE naming host and port`, async () => {
    const port = Number(new URL(await closedPortUrl()).port);
    await assert.rejects(scan('127.0.0.1', port), {
      code: 'HOST_UNREACHABLE',
      message: new RegExp(`^no ssh host key from \\[127\\.0\\.0\\.1\\]:${port}`),
    });
  });
}

test('a host that would read as an option is refused before anything runs', async () => {
  await assert.rejects(scanHostKey('-oProxyCommand=touch', 22), { code: 'INVALID_URL' });
  await assert.rejects(scanHostKey('example.com', 70000), { code: 'INVALID_URL' });
});
