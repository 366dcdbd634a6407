// ReferencedSecrets against a real API server and its RBAC, as a gateway identity.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { writeKubeconfig } from '../cli/kubeconfig.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { KubeClient } from '../client/rest.ts';
import { startTestApiServer, type TestApiServer } from '../../test/support/apiserver.ts';
import { eventually } from '../../test/support/eventually.ts';
import { ReferencedSecrets } from './referenced-secrets.ts';

describe('ReferencedSecrets', () => {
  let t: TestApiServer;
  let client: KubeClient;

  before(async () => {
    t = await startTestApiServer('memory', { tokens: ['gateway-token,gw,gw-uid,"gatehouse:gateways"'] });
    const kubeconfig = join(t.dir, 'gateway.kubeconfig');
    await writeKubeconfig(kubeconfig, t.url, t.ca, 'gateway-token');
    client = new KubeClient(await loadKubeconfig(kubeconfig));
  });
  after(async () => {
    await client.close();
    await t.stop();
  });

  it('reads a Secret once it may, says once that it may not, and stops reading one no longer referred to', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'users' }, stringData: { a: 'b' } };
    const created = await t.request('/api/v1/namespaces/default/secrets', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(secret),
    });
    assert.equal(created.status, 201);
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    let changes = 0;
    const unreachable: unknown[] = [];
    const secrets = new ReferencedSecrets(client, {
      onChange: () => changes++,
      unreachable: (err) => unreachable.push(err),
      logger,
    });
    try {
      await secrets.follow(new Set(['default/users']));
      assert.deepEqual(secrets.items(), [], 'refused: missing to the gateway');
      assert.equal(secrets.follow(new Set(['default/users'])), undefined, 'followed already');

      await t.kubectl(['create', 'role', 'r', '--verb=get,list,watch', '--resource=secrets', '--resource-name=users']);
      await t.kubectl(['create', 'rolebinding', 'r', '--role=r', '--group=gatehouse:gateways']);
      await eventually(
        () =>
          assert.deepEqual(
            secrets.items().map((s) => s.metadata.name),
            ['users'],
          ),
        {
          attempts: 300,
        },
      );
      assert.ok(changes >= 1);
      const refusals = lines.filter((l) => /the gateway may not read Secret default\/users/.test(l.msg));
      assert.equal(refusals.length, 1, 'the refusal is logged once, however often it is retried');
      assert.ok(lines.some((l) => l.msg === 'the gateway reads Secret default/users again'));
      assert.deepEqual(unreachable, [], 'a refusal is not an outage');

      assert.equal(secrets.follow(new Set()), undefined);
      assert.deepEqual(secrets.items(), []);
    } finally {
      await secrets.stop();
    }
  });
});
