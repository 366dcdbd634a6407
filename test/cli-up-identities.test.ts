// `gatehouse up` runs the gateway and the controller as their ServiceAccounts, never with the administrator's
// token: the audit log shows their requests under their own names, none refused by their roles, and the
// administrator's requests are only those of `up` creating the accounts and asking for their tokens.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../src/apiserver/audit/event.ts';
import { eventually } from './support/eventually.ts';
import { GATEHOUSE } from './support/cli.ts';
import { freshPgliteDir } from './support/pglite.ts';

const GATEWAY = 'system:serviceaccount:gatehouse-system:gatehouse-gateway';
const CONTROLLER = 'system:serviceaccount:gatehouse-system:gatehouse-controller';

describe('gatehouse up identities', () => {
  let dir: string;
  let stop: () => Promise<unknown>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-up-identities-'));
    await freshPgliteDir(join(dir, 'pglite'));
    const ports = ['--api-port', '0', '--gateway-port', '0', '--gateway-internal-port', '0', '--hook-port', '0'];
    const proc = spawn(process.execPath, [...GATEHOUSE, 'up', '--data-dir', dir, ...ports], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    stop = () => {
      proc.kill('SIGTERM');
      return exited;
    };
    await new Promise<void>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Gatehouse is up.')) resolve();
      });
      void exited.then((code) => reject(new Error(`gatehouse up exited with ${code}: ${out}`)));
    });
  });
  after(async () => {
    await stop?.();
    await rm(dir, { recursive: true, force: true });
  });

  const events = async () =>
    (await readFile(join(dir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEvent);

  it('records the gateway and the controller under their ServiceAccounts, never as the administrator', async () => {
    // The gateway elects its status writer (a Lease write), the controller lists what it reconciles.
    const all = await eventually(
      async () => {
        const seen = await events();
        const by = (user: string) => seen.filter((e) => e.user.username === user);
        const did = (user: string, verb: string, resource: string) =>
          by(user).some((e) => e.objectRef?.resource === resource && e.verb === verb);
        assert.ok(did(GATEWAY, 'create', 'leases'), "the gateway's Lease");
        assert.ok(did(CONTROLLER, 'list', 'syncs'), "the controller's list");
        return seen;
      },
      { attempts: 600, intervalMs: 100 },
    );
    const components = [GATEWAY, CONTROLLER];
    const refused = all.filter((e) => components.includes(e.user.username) && e.responseStatus?.code === 403);
    assert.deepEqual(
      refused.map((e) => `${e.user.username} ${e.verb} ${e.requestURI}`),
      [],
    );
    const admin = all.filter((e) => e.user.groups?.includes('system:masters'));
    const setup = admin.map((e) => [e.verb, e.objectRef?.resource, e.objectRef?.subresource].filter(Boolean).join(' '));
    const expected = ['create namespaces', 'create serviceaccounts', 'create serviceaccounts token'];
    assert.deepEqual([...new Set(setup)].sort(), expected);
  });
});
