// TokenReview from the delegating side, against a real API server: audiences as kube's webhook
// authenticator checks them (a review that asks for audiences must be answered with one of them), the
// answer's user taken whole, and an unreachable server no user, reported.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadKubeconfig } from '../../../client/kubeconfig.ts';
import { KubeClient } from '../../../client/rest.ts';
import { startTestApiServer, type TestApiServer } from '../../../../test/support/apiserver.ts';
import { tokenReviewAuthenticator } from './token-review.ts';

describe('the TokenReview authenticator', () => {
  let cluster: TestApiServer;
  let client: KubeClient;
  let robotToken: string;

  before(async () => {
    cluster = await startTestApiServer('memory', { tokens: ['alice-token,alice,alice-uid,"devs"'] });
    client = new KubeClient(await loadKubeconfig(cluster.kubeconfigPath));
    const post = (path: string, body: unknown) =>
      cluster.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await post('/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'robot' } });
    const request = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: ['gatehouse'] },
    };
    const answer = await post('/api/v1/namespaces/default/serviceaccounts/robot/token', request);
    robotToken = ((await answer.json()) as { status: { token: string } }).status.token;
  });
  after(async () => {
    await client.close();
    await cluster.stop();
  });

  it("is the cluster's user of a token, with its uid and groups", async () => {
    const tokens = tokenReviewAuthenticator({ client, ttlMs: 10_000, timeoutMs: 5_000 });
    assert.deepEqual(await tokens.authenticateToken('alice-token'), {
      name: 'alice',
      uid: 'alice-uid',
      groups: ['devs', 'system:authenticated'],
    });
    assert.equal(await tokens.authenticateToken('nobody-token'), undefined);
  });

  it('asks for the audiences given, and takes only an answer naming one of them', async () => {
    const forGatehouse = tokenReviewAuthenticator({ client, ttlMs: 0, timeoutMs: 5_000, audiences: ['gatehouse'] });
    assert.equal((await forGatehouse.authenticateToken(robotToken))?.name, 'system:serviceaccount:default:robot');
    const forOthers = tokenReviewAuthenticator({ client, ttlMs: 0, timeoutMs: 5_000, audiences: ['other'] });
    assert.equal(await forOthers.authenticateToken(robotToken), undefined);
    // No audiences asked: the cluster's own, which this token is not meant for.
    const forCluster = tokenReviewAuthenticator({ client, ttlMs: 0, timeoutMs: 5_000 });
    assert.equal(await forCluster.authenticateToken(robotToken), undefined);
  });

  it('authenticates nobody when the cluster cannot be reached, and reports why', async () => {
    const errors: unknown[] = [];
    const unreachable = new KubeClient({ ...client.config, server: 'https://127.0.0.1:1' });
    const tokens = tokenReviewAuthenticator({
      client: unreachable,
      ttlMs: 10_000,
      timeoutMs: 5_000,
      onError: (err) => errors.push(err),
    });
    assert.equal(await tokens.authenticateToken('alice-token'), undefined);
    assert.equal(errors.length, 1);
    await unreachable.close();
  });
});
