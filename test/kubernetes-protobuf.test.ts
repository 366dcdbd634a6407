// Protobuf responses (`application/vnd.kubernetes.protobuf`) for the built-in kinds, which kubectl and
// client-go's typed clients ask for first, and kube-apiserver's 406 where a kind has no such form.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { decodeProtobuf, PROTOBUF_TYPE, PROTOBUF_WATCH_TYPE } from '../src/apiserver/http/protobuf.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';

/** What kubectl and client-go's typed clients send for built-in kinds. */
const CLIENT_GO_ACCEPT = 'application/vnd.kubernetes.protobuf,application/json';
const AD = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions';

// meta/v1 WatchEvent {type=1, object=2 RawExtension {raw=1}}, the message of each protobuf watch frame.
const WATCH_EVENT = protobuf.Root.fromJSON({
  nested: {
    WatchEvent: { fields: { type: { id: 1, type: 'string' }, object: { id: 2, type: 'RawExtension' } } },
    RawExtension: { fields: { raw: { id: 1, type: 'bytes' } } },
  },
}).lookupType('WatchEvent');

/** The frames of a protobuf watch body: a 4-byte big-endian length, then a WatchEvent. */
function watchFrames(body: Buffer): Array<{ type: string; object: Record<string, unknown> }> {
  const events = [];
  for (let at = 0; at < body.length; ) {
    const length = body.readUInt32BE(at);
    const event = WATCH_EVENT.toObject(WATCH_EVENT.decode(body.subarray(at + 4, at + 4 + length))) as {
      type: string;
      object: { raw: Uint8Array };
    };
    events.push({ type: event.type, object: decodeProtobuf(Buffer.from(event.object.raw), 'a watch event') });
    at += 4 + length;
  }
  return events;
}

describe('Kubernetes protobuf responses', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer();
  });
  after(async () => {
    await t.stop();
  });

  it('kubectl create decodes the protobuf answer into the object the API server stored', async () => {
    const created = [
      { args: ['create', 'namespace', 'proto'], path: '/api/v1/namespaces/proto' },
      {
        args: ['create', 'configmap', 'cm', '-n', 'proto', '--from-literal=mode=fast'],
        path: '/api/v1/namespaces/proto/configmaps/cm',
      },
      {
        args: ['create', 'secret', 'generic', 'creds', '-n', 'proto', '--from-literal=password=s3cr=t'],
        path: '/api/v1/namespaces/proto/secrets/creds',
      },
      {
        args: ['create', 'serviceaccount', 'robot', '-n', 'proto'],
        path: '/api/v1/namespaces/proto/serviceaccounts/robot',
      },
    ];
    for (const { args, path } of created) {
      const printed = JSON.parse(await t.kubectl([...args, '-o', 'json']));
      const stored = await (await t.request(path, { headers: { accept: 'application/json' } })).json();
      delete stored.metadata.managedFields; // kubectl hides them when printing
      assert.deepEqual(printed, stored, `kubectl ${args.join(' ')}`);
    }
    const described = await t.kubectl(['describe', 'configmap', 'cm', '-n', 'proto']);
    assert.match(described, /^Name:\s+cm$/m);
    assert.match(described, /^mode:\s*\n-+\s*\nfast$/m);
  });

  it("answers client-go's Accept with protobuf for gets, lists and writes of built-in kinds", async () => {
    const get = await t.request('/api/v1/namespaces/proto/configmaps/cm', { headers: { accept: CLIENT_GO_ACCEPT } });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-type'), PROTOBUF_TYPE);
    const cm = decodeProtobuf(Buffer.from(await get.arrayBuffer()), 'a ConfigMap');
    assert.equal((cm.metadata as { name: string }).name, 'cm');
    assert.deepEqual(cm.data, { mode: 'fast' });
    assert.match(
      String((cm.metadata as { creationTimestamp: string }).creationTimestamp),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );

    const list = await t.request('/api/v1/namespaces/proto/configmaps', { headers: { accept: CLIENT_GO_ACCEPT } });
    assert.equal(list.headers.get('content-type'), PROTOBUF_TYPE);
    const body = Buffer.from(await list.arrayBuffer());
    assert.equal(body.subarray(0, 4).toString('latin1'), 'k8s\0');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the bytes of the protobuf envelope (field tags and lengths) are matched
    assert.match(body.toString('latin1'), /\n\x02v1\x12\rConfigMapList/, 'the envelope names ConfigMapList');

    const patched = await t.request('/api/v1/namespaces/proto/configmaps/cm', {
      method: 'PATCH',
      headers: { accept: CLIENT_GO_ACCEPT, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { mode: 'slow' } }),
    });
    assert.equal(patched.headers.get('content-type'), PROTOBUF_TYPE);
    assert.deepEqual(decodeProtobuf(Buffer.from(await patched.arrayBuffer()), 'a ConfigMap').data, { mode: 'slow' });
  });

  it('answers errors about built-in kinds with a protobuf Status, which kubectl reads', async () => {
    const missing = await t.request('/api/v1/namespaces/proto/configmaps/missing', {
      headers: { accept: CLIENT_GO_ACCEPT },
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-type'), PROTOBUF_TYPE);
    const status = Buffer.from(await missing.arrayBuffer()).toString('latin1');
    assert.ok(status.startsWith('k8s\0\n\x0c\n\x02v1\x12\x06Status'), 'a Status envelope');
    assert.ok(status.includes('configmaps "missing" not found'));
    // kubectl create asks for protobuf: the AlreadyExists reason and message come from the protobuf Status.
    const again = await t.kubectlResult(['create', 'configmap', 'cm', '-n', 'proto', '--from-literal=mode=fast']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /configmaps "cm" already exists/);
  });

  it('watches a built-in kind as length-prefixed protobuf WatchEvents', async () => {
    const list = await (await t.request('/api/v1/namespaces/proto/configmaps')).json();
    const query = `watch=true&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=1`;
    const watch = t.request(`/api/v1/namespaces/proto/configmaps?${query}`, { headers: { accept: CLIENT_GO_ACCEPT } });
    const create = await t.request('/api/v1/namespaces/proto/configmaps', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'watched' }, data: { a: 'b' } }),
    });
    assert.equal(create.status, 201);
    const res = await watch;
    assert.equal(res.headers.get('content-type'), PROTOBUF_WATCH_TYPE);
    const events = watchFrames(Buffer.from(await res.arrayBuffer()));
    const added = events.find((e) => e.type === 'ADDED');
    assert.ok(added, `an ADDED event among ${events.map((e) => e.type).join(', ')}`);
    assert.equal(added.object.kind, 'ConfigMap');
    assert.equal((added.object.metadata as { name: string }).name, 'watched');
    assert.deepEqual(added.object.data, { a: 'b' });
  });

  it("answers JSON for our kinds when JSON is accepted too, and kube-apiserver's 406 otherwise", async () => {
    const custom = await t.request(AD, { headers: { accept: CLIENT_GO_ACCEPT } });
    assert.equal(custom.status, 200);
    assert.equal(custom.headers.get('content-type'), 'application/json');
    await custom.arrayBuffer();

    const only = await t.request(AD, { headers: { accept: PROTOBUF_TYPE } });
    assert.equal(only.status, 406);
    assert.equal(only.headers.get('content-type'), 'application/json');
    const status = await only.json();
    assert.equal(status.reason, 'NotAcceptable');
    assert.equal(status.message, 'only the following media types are accepted: application/json, application/yaml');

    const core = await t.request('/api/v1/namespaces/proto/configmaps', { headers: { accept: 'application/cbor' } });
    assert.equal(core.status, 406);
    assert.equal(
      (await core.json()).message,
      'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
    const write = await t.request('/api/v1/namespaces/proto/configmaps', {
      method: 'POST',
      headers: { accept: 'application/cbor', 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'refused' } }),
    });
    assert.equal(write.status, 406);
    await write.arrayBuffer();
    const absent = await t.request('/api/v1/namespaces/proto/configmaps/refused');
    assert.equal(absent.status, 404, 'a write whose answer cannot be written is not made');
    await absent.arrayBuffer();
  });
});
