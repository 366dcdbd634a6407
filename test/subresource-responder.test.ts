// The component side of delegated subresources against a real API server: of several
// responders exactly one answers each request, a responder leaves what it does not accept
// to another, refusals reach the caller as the Status they name, answers keep their nulls,
// and a request taken and never answered ends in a 504 naming who took it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { apiDefinitionKind } from '../src/api/kinds/api-definition/index.ts';
import { syncKind } from '../src/api/kinds/sync/index.ts';
import { isStatusError } from '../src/client/errors.ts';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { KubeClient } from '../src/client/rest.ts';
import { SubresourceRefusal, SubresourceResponder, type ResponderOptions } from '../src/controller/runtime/index.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';

const logger = pino({ level: 'silent' });

describe('SubresourceResponder', () => {
  let t: TestApiServer;
  let client: KubeClient;
  const responders: SubresourceResponder[] = [];
  const start = (options: Omit<ResponderOptions, 'client' | 'logger'>) => {
    const responder = new SubresourceResponder({ client, logger, ...options }).start();
    responders.push(responder);
    return responder;
  };

  before(async () => {
    t = await startTestApiServer('memory', { delegation: { claimTimeoutMs: 5000 } });
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    const meta = { apiVersion: 'gatehouse.dev/v1alpha1', metadata: { name: 'demo', namespace: 'default' } };
    await client.create(syncKind, { ...meta, kind: 'Sync', spec: { sourceRef: { name: 'demo' }, path: './' } });
    const spec = { listenPath: '/demo', upstream: { targets: [{ url: 'http://127.0.0.1:9' }] } };
    await client.create(apiDefinitionKind, { ...meta, kind: 'ApiDefinition', spec });
  });
  after(async () => {
    await Promise.all(responders.map((r) => r.stop()));
    await client.close();
    await t.stop();
  });

  it('answers each request from exactly one of several responders', async () => {
    const handled: string[] = [];
    const replicas = [0, 1, 2].map(() => {
      const responder: SubresourceResponder = start({
        responder: 'controller',
        handlers: {
          'syncs/diff': async () => {
            handled.push(responder.identity);
            return { kind: 'SyncDiff', by: responder.identity, unchanged: null };
          },
        },
      });
      return responder;
    });
    const answers = [];
    for (let i = 0; i < 6; i++) {
      answers.push(await client.subresource<Record<string, unknown>>(syncKind, 'demo', 'diff', 'default'));
    }
    assert.equal(handled.length, 6, 'no request answered twice');
    for (const answer of answers) {
      assert.ok(replicas.some((r) => r.identity === answer.by));
      assert.equal(answer.unchanged, null, 'a null in an answer stays a value');
    }
  });

  it('leaves a request it does not accept to a responder that does', async () => {
    const refused = () => assert.fail('a request not accepted is not answered');
    start({ responder: 'gateway', accepts: () => false, handlers: { 'apidefinitions/probe': refused } });
    const probe = async () => ({ kind: 'ProbeResult', status: 200 });
    start({ responder: 'gateway', handlers: { 'apidefinitions/probe': probe } });
    const result = await client.subresource<Record<string, unknown>>(apiDefinitionKind, 'demo', 'probe', 'default', {});
    assert.deepEqual(result, { kind: 'ProbeResult', status: 200 });
  });

  it('answers a refusal with the Status it names, and any other error as an InternalError', async () => {
    let refuse = true;
    start({
      responder: 'controller',
      handlers: {
        'syncs/reconcile': async () => {
          if (refuse) throw new SubresourceRefusal('Conflict', 'Sync default/demo is being deleted');
          throw new Error('disk on fire');
        },
      },
    });
    await assert.rejects(client.subresource(syncKind, 'demo', 'reconcile', 'default', {}), (err: unknown) => {
      assert.ok(isStatusError(err, 'Conflict'));
      assert.deepEqual(
        [err.code, err.message, err.status.details],
        [409, 'Sync default/demo is being deleted', { name: 'demo', group: 'gatehouse.dev', kind: 'syncs' }],
      );
      return true;
    });
    refuse = false;
    await assert.rejects(client.subresource(syncKind, 'demo', 'reconcile', 'default', {}), (err: unknown) => {
      assert.ok(isStatusError(err, 'InternalError'));
      assert.equal(err.message, 'Internal error occurred: disk on fire');
      return true;
    });
  });
});

describe('a delegated subresource taken and not answered', () => {
  let t: TestApiServer;
  let client: KubeClient;
  let responder: SubresourceResponder;
  let finish!: () => void;

  before(async () => {
    t = await startTestApiServer('memory', { delegation: { answerTimeoutMs: 500 } });
    client = new KubeClient(await loadKubeconfig(t.kubeconfigPath));
    const meta = { apiVersion: 'gatehouse.dev/v1alpha1', metadata: { name: 'slow', namespace: 'default' } };
    await client.create(syncKind, { ...meta, kind: 'Sync', spec: { sourceRef: { name: 'slow' }, path: './' } });
    const unfinished = new Promise<object>((resolve) => (finish = () => resolve({})));
    const handlers = { 'syncs/reconcile': () => unfinished };
    responder = new SubresourceResponder({ client, logger, responder: 'controller', handlers }).start();
  });
  after(async () => {
    finish();
    await responder.stop();
    await client.close();
    await t.stop();
  });

  it('answers 504 naming the instance that took it', async () => {
    await assert.rejects(client.subresource(syncKind, 'slow', 'reconcile', 'default', {}), (err: unknown) => {
      assert.ok(isStatusError(err, 'Timeout'));
      assert.equal(err.code, 504);
      const who = `the GitOps controller ${responder.identity}`;
      assert.equal(err.message, `Sync default/slow reconcile: ${who} took the request but did not answer within 0.5 s`);
      return true;
    });
  });
});
