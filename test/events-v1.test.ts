// events.k8s.io/v1 Events, served from the core v1 Events' storage as kube-apiserver serves them: one Event
// read and written in both shapes, converted field by field as kube converts them, field selectors in
// either API version's names, a watch, and the real kubectl (`get events.v1.events.k8s.io`, `events`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';

const CORE = '/api/v1/namespaces/default/events';
const EVENTS = '/apis/events.k8s.io/v1/namespaces/default/events';
const JSON_TYPE = { 'content-type': 'application/json' };

const regarding = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'settings', uid: 'u-1' };

/** An events.k8s.io/v1 Event as client-go's events recorder (k8s.io/client-go/tools/events) writes one. */
const newEvent = {
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name: 'settings.new' },
  eventTime: '2026-01-02T03:04:05.123456Z',
  reportingController: 'gatehouse.dev/sync-controller',
  reportingInstance: 'controller-0',
  action: 'Apply',
  reason: 'Applied',
  regarding,
  note: 'applied by the new API',
  type: 'Normal',
};

/** A core v1 Event as client-go's record.EventRecorder (and Gatehouse's) writes one. */
const legacyEvent = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'settings.legacy' },
  involvedObject: regarding,
  reason: 'Loaded',
  message: 'loaded by the legacy API',
  type: 'Warning',
  source: { component: 'gitops', host: 'node-1' },
  firstTimestamp: '2026-01-02T03:00:00Z',
  lastTimestamp: '2026-01-02T03:05:00Z',
  count: 3,
  reportingComponent: 'gatehouse.dev/gitops',
  reportingInstance: 'controller-1',
};

describe('events.k8s.io/v1 Events, as kube-apiserver', () => {
  let t: TestApiServer;
  const request = async (path: string, init?: RequestInit) => {
    const res = await t.request(path, init);
    return { status: res.status, body: await res.json() };
  };
  const names = async (path: string, fieldSelector: string) => {
    const { status, body } = await request(`${path}?fieldSelector=${encodeURIComponent(fieldSelector)}`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort();
  };

  before(async () => {
    t = await startTestApiServer();
    for (const [path, body] of [
      [EVENTS, newEvent],
      [CORE, legacyEvent],
    ] as const) {
      const created = await request(path, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
  });
  after(async () => {
    await t.stop();
  });

  it('an Event written in one version is read in the other, converted field by field', async () => {
    const asCore = (await request(`${CORE}/settings.new`)).body;
    assert.equal(asCore.apiVersion, 'v1');
    assert.deepEqual(asCore.involvedObject, regarding);
    assert.equal(asCore.message, 'applied by the new API');
    assert.equal(asCore.reportingComponent, 'gatehouse.dev/sync-controller');
    assert.equal(asCore.eventTime, '2026-01-02T03:04:05.123456Z');
    assert.equal(asCore.action, 'Apply');
    for (const field of ['regarding', 'note', 'reportingController']) assert.equal(asCore[field], undefined, field);

    const asNew = (await request(`${EVENTS}/settings.legacy`)).body;
    assert.equal(asNew.apiVersion, 'events.k8s.io/v1');
    assert.deepEqual(asNew.regarding, regarding);
    assert.equal(asNew.note, 'loaded by the legacy API');
    assert.equal(asNew.reportingController, 'gatehouse.dev/gitops');
    assert.equal(asNew.reportingInstance, 'controller-1');
    assert.deepEqual(asNew.deprecatedSource, { component: 'gitops', host: 'node-1' });
    assert.equal(asNew.deprecatedFirstTimestamp, '2026-01-02T03:00:00Z');
    assert.equal(asNew.deprecatedLastTimestamp, '2026-01-02T03:05:00Z');
    assert.equal(asNew.deprecatedCount, 3);
    for (const field of ['involvedObject', 'message', 'source', 'count', 'firstTimestamp', 'reportingComponent'])
      assert.equal(asNew[field], undefined, field);

    const list = (await request(EVENTS)).body;
    assert.equal(list.kind, 'EventList');
    assert.equal(list.apiVersion, 'events.k8s.io/v1');
    assert.deepEqual(
      list.items.map((i: { apiVersion: string; metadata: { name: string } }) => [i.apiVersion, i.metadata.name]),
      [
        ['events.k8s.io/v1', 'settings.legacy'],
        ['events.k8s.io/v1', 'settings.new'],
      ],
    );
  });

  it('a write in the new version is stored in the core shape: a merge patch of note changes the message', async () => {
    const patched = await request(`${EVENTS}/settings.legacy`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ note: 'patched', deprecatedCount: 4 }),
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.note, 'patched');
    const asCore = (await request(`${CORE}/settings.legacy`)).body;
    assert.equal(asCore.message, 'patched');
    assert.equal(asCore.count, 4);
    assert.equal(asCore.metadata.resourceVersion, patched.body.metadata.resourceVersion);
  });

  it('selects by the new version field names, as kube converts them, and refuses the core ones', async () => {
    assert.deepEqual(await names(EVENTS, 'regarding.name=settings'), ['settings.legacy', 'settings.new']);
    assert.deepEqual(await names(EVENTS, 'reportingController=gatehouse.dev/gitops'), ['settings.legacy']);
    assert.deepEqual(await names(EVENTS, 'type=Normal,regarding.kind=ConfigMap'), ['settings.new']);
    assert.deepEqual(await names(EVENTS, 'source=gitops'), ['settings.legacy']);
    assert.deepEqual(await names(EVENTS, 'reason=Applied'), ['settings.new']);
    assert.deepEqual(await names(CORE, 'reportingComponent=gatehouse.dev/sync-controller'), ['settings.new']);
    const refused = await request(`${EVENTS}?fieldSelector=involvedObject.name%3Dsettings`);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.message, 'field label not supported: involvedObject.name');
  });

  it('a watch in the new version sees an Event written in the core one, converted and selected', async () => {
    const list = (await request(EVENTS)).body;
    const controller = new AbortController();
    const res = await t.request(
      `${EVENTS}?watch=true&resourceVersion=${list.metadata.resourceVersion}&fieldSelector=regarding.name%3Dother`,
      { signal: controller.signal },
    );
    assert.equal(res.status, 200);
    const about = (name: string) => ({ ...legacyEvent, metadata: { name }, involvedObject: { ...regarding, name } });
    for (const body of [about('settings'), about('other')]) {
      const created = await request(CORE, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('\n')) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'the watch ended before an event');
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const event = JSON.parse(text.slice(0, text.indexOf('\n')));
    assert.equal(event.type, 'ADDED');
    assert.equal(event.object.apiVersion, 'events.k8s.io/v1');
    assert.equal(event.object.metadata.name, 'other');
    assert.equal(event.object.regarding.name, 'other');
    assert.equal(event.object.note, 'loaded by the legacy API');
  });

  it('kubectl gets events.v1.events.k8s.io and lists Events with kubectl events', async () => {
    const table = await t.kubectl(['get', 'events.v1.events.k8s.io', '-n', 'default']);
    const lines = table.trim().split('\n');
    const core = await t.kubectl(['get', 'events', '-n', 'default']);
    assert.equal(lines[0], core.split('\n')[0], 'the columns of core Events');
    assert.match(lines[0], /^NAME\s+LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    assert.ok(
      lines.some((l) => /\sNormal\s+Applied\s+configmap\/settings\s+applied by the new API$/.test(l)),
      table,
    );
    const yaml = await t.kubectl(['get', 'events.v1.events.k8s.io', 'settings.legacy', '-n', 'default', '-o', 'yaml']);
    assert.match(yaml, /^apiVersion: events\.k8s\.io\/v1$/m);
    assert.match(yaml, /^note: patched$/m);
    const events = await t.kubectl(['events', '-n', 'default', '--for', 'configmap/settings']);
    assert.match(events, /Applied\s+ConfigMap\/settings\s+applied by the new API/);
    assert.match(events, /Loaded\s+ConfigMap\/settings\s+loaded by the legacy API/);
  });
});
