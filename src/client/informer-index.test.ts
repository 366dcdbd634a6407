// The index over a real informer of a real API server: objects filed by what they name,
// moved when that changes, dropped when they go.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../api/kind.ts';
import { gitRepositoryKind, type GitRepository } from '../api/kinds/git-repository/index.ts';
import { useApiServer } from '../../test/support/apiserver.ts';
import { eventually } from '../../test/support/eventually.ts';
import { Informer } from './informer.ts';
import { InformerIndex } from './informer-index.ts';

describe('InformerIndex', () => {
  const api = useApiServer();

  it('files objects under the keys they name, and follows changes and deletes', async () => {
    const { client } = api;
    const repo = (name: string, secret?: string) =>
      ({
        apiVersion: 'gatehouse.dev/v1alpha1',
        kind: 'GitRepository',
        metadata: { name, namespace: 'default' },
        spec: { url: 'https://git.invalid/app', ...(secret ? { secretRef: { name: secret } } : {}) },
      }) as KubeObject;
    await client.create(gitRepositoryKind, repo('listed-first', 'shared'));
    const informer = new Informer<GitRepository>(client, gitRepositoryKind);
    const bySecret = new InformerIndex(informer, (r) => (r.spec.secretRef ? [`default/${r.spec.secretRef.name}`] : []));
    const names = (key: string) =>
      bySecret
        .get(key)
        .map((r) => r.metadata.name)
        .sort();
    informer.start();
    try {
      await informer.synced;
      assert.deepEqual(names('default/shared'), ['listed-first']);
      await client.create(gitRepositoryKind, repo('watched', 'shared'));
      await client.create(gitRepositoryKind, repo('no-secret'));
      await eventually(() => assert.deepEqual(names('default/shared'), ['listed-first', 'watched']));

      await client.patch(gitRepositoryKind, 'watched', { spec: { secretRef: { name: 'own' } } }, 'merge', 'default');
      await eventually(() => assert.deepEqual(names('default/own'), ['watched']));
      assert.deepEqual(names('default/shared'), ['listed-first']);

      await client.delete(gitRepositoryKind, 'listed-first', 'default');
      await eventually(() => assert.deepEqual(names('default/shared'), []));
      assert.deepEqual(names('default/own'), ['watched']);
    } finally {
      await informer.stop();
    }
  });
});
