// Starting delegation against a real API server: without the right to read the
// extension-apiserver-authentication ConfigMap the start fails with kube's message and its fix, rather
// than serving without the front proxy; --authentication-skip-lookup starts from the flags alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadKubeconfig } from '../../../client/kubeconfig.ts';
import { KubeClient } from '../../../client/rest.ts';
import { startTestApiServer, type TestApiServer } from '../../../../test/support/apiserver.ts';
import { startDelegation } from './delegation.ts';

describe('starting delegation', () => {
  let cluster: TestApiServer;
  const clientAs = async (token: string) =>
    new KubeClient({ ...(await loadKubeconfig(cluster.kubeconfigPath)), token });

  before(async () => {
    cluster = await startTestApiServer('memory', { tokens: ['nobody-token,nobody,nobody-uid'] });
  });
  after(() => cluster.stop());

  // Bounded, so a start that waited forever fails the test instead of hanging the suite.
  it("fails with kube's message when the ConfigMap cannot be read", { timeout: 60_000 }, async () => {
    const client = await clientAs('nobody-token');
    await assert.rejects(
      startDelegation({ authentication: client, authorization: client, lookupTimeoutMs: 1_000 }),
      (err: Error) => {
        assert.match(err.message, /^unable to get configmap\/extension-apiserver-authentication in kube-system: /);
        assert.match(err.message, /forbidden: User "nobody" cannot list resource "configmaps"/);
        assert.match(err.message, /--role=extension-apiserver-authentication-reader/);
        return true;
      },
    );
  });

  it('starts without reading it when told to skip the lookup', async () => {
    const client = await clientAs('nobody-token');
    const delegation = await startDelegation({ authentication: client, authorization: client, skipLookup: true });
    await delegation.close();
  });
});
