// The audit log of a real API server: every write of the run recorded exactly once, with the
// user who made it (and the one it impersonated), its response code and field manager; a watch's
// ResponseStarted and ResponseComplete; and no Secret data, ApiKey plaintext or token anywhere in
// the file, whatever kubectl or a client sent and got back.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../src/apiserver/audit/event.ts';
import { parseAuditPolicy } from '../src/apiserver/audit/policy.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { gatehouse } from './support/cli.ts';

const ADMIN = 'admin';
const SECRET_VALUE = 'deploy-key-value-7f3a';
const STRING_DATA = 'applied-password-91c2';

/** A write the test made and expects recorded once. */
interface Write {
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name: string;
  user: string;
  code: number;
  impersonated?: string;
}

const key = (w: Write) =>
  [w.verb, w.resource, w.subresource ?? '', w.namespace ?? '', w.name, w.user, w.impersonated ?? '', w.code].join(' ');

const writeOf = (e: AuditEvent): Write => ({
  verb: e.verb,
  resource: e.objectRef?.resource ?? '',
  subresource: e.objectRef?.subresource,
  namespace: e.objectRef?.namespace,
  name: e.objectRef?.name ?? '',
  user: e.user.username,
  impersonated: e.impersonatedUser?.username,
  code: e.responseStatus?.code ?? 0,
});

describe('audit log', () => {
  let t: TestApiServer;
  let dir: string;
  let logPath: string;
  let text = '';
  let events: AuditEvent[] = [];
  const writes: Write[] = [];
  const secrets: string[] = [SECRET_VALUE, Buffer.from(SECRET_VALUE).toString('base64'), STRING_DATA];
  const auditIds = new Map<string, Write>();

  async function call(
    method: string,
    path: string,
    user: { token: string; name: string },
    body?: unknown,
    expected?: Omit<Write, 'user' | 'code' | 'verb'> & { verb?: string },
    headers: Record<string, string> = {},
  ) {
    const res = await t.request(
      path,
      {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      user.token,
    );
    const json = (await res.json()) as Record<string, unknown>;
    if (expected) {
      const verb = expected.verb ?? { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method]!;
      const write = { ...expected, verb, user: user.name, code: res.status };
      writes.push(write);
      auditIds.set(res.headers.get('audit-id') ?? '', write);
    }
    return { status: res.status, json, auditId: res.headers.get('audit-id') };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-'));
    logPath = join(dir, 'audit.log');
    t = await startTestApiServer('memory', {
      tokens: ['alice-token,alice,alice-uid,"gatehouse:admins"', 'bob-token,bob,bob-uid,"team-b"'],
      audit: { path: logPath },
    });
    const admin = { token: t.token, name: ADMIN };
    const alice = { token: 'alice-token', name: 'alice' };
    const bob = { token: 'bob-token', name: 'bob' };
    const ns = 'audited';
    const byAdmin = (verb: string, resource: string, name: string, code: number, subresource?: string) =>
      writes.push({
        verb,
        resource,
        subresource,
        namespace: resource === 'namespaces' ? undefined : ns,
        name,
        user: ADMIN,
        code,
      });
    await t.kubectl(['create', 'namespace', ns]);
    byAdmin('create', 'namespaces', ns, 201);
    await t.kubectl(['create', 'secret', 'generic', 'deploy-key', '-n', ns, `--from-literal=key=${SECRET_VALUE}`]);
    byAdmin('create', 'secrets', 'deploy-key', 201);
    // kubectl apply copies the whole Secret into its last-applied annotation.
    const applied = { name: 'applied', namespace: ns };
    await t.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: applied, stringData: { password: STRING_DATA } }),
    );
    byAdmin('create', 'secrets', 'applied', 201);
    const morePatch = JSON.stringify({ stringData: { more: STRING_DATA } });
    await t.kubectl(['patch', 'secret', 'deploy-key', '-n', ns, '-p', morePatch]);
    byAdmin('patch', 'secrets', 'deploy-key', 200);

    const consumer = { apiVersion: 'gatehouse.dev/v1alpha1', kind: 'Consumer', metadata: { name: 'shop' }, spec: {} };
    const consumers = `/apis/gatehouse.dev/v1alpha1/namespaces/${ns}/consumers`;
    const shop = { resource: 'consumers', namespace: ns, name: 'shop' };
    await call('POST', `${consumers}?fieldManager=audit-test`, alice, consumer, shop);
    const apiKey = {
      apiVersion: 'gatehouse.dev/v1alpha1',
      kind: 'ApiKey',
      metadata: { generateName: 'shop-' },
      spec: { consumer: 'shop' },
    };
    const minted = await call('POST', `/apis/gatehouse.dev/v1alpha1/namespaces/${ns}/apikeys`, alice, apiKey);
    assert.equal(minted.status, 201);
    const apiKeyName = (minted.json.metadata as { name: string }).name;
    writes.push({ verb: 'create', resource: 'apikeys', namespace: ns, name: apiKeyName, user: 'alice', code: 201 });
    auditIds.set(minted.auditId ?? '', writes[writes.length - 1]);
    secrets.push((minted.json.status as { key: string }).key);

    const mergePatch = { 'content-type': 'application/merge-patch+json' };
    await call('POST', consumers, alice, consumer, shop);
    await call('PATCH', `${consumers}/shop`, bob, { metadata: { labels: { a: 'b' } } }, shop, mergePatch);
    const asAlice = { 'impersonate-user': 'alice', 'impersonate-group': 'gatehouse:admins' };
    const patched = await call(
      'PATCH',
      `${consumers}/shop`,
      admin,
      { metadata: { labels: { tier: 'gold' } } },
      { ...shop, impersonated: 'alice' },
      { ...mergePatch, ...asAlice },
    );
    assert.equal(patched.status, 200);
    await call('DELETE', `${consumers}/shop`, alice, undefined, shop);

    await t.kubectl(['create', 'serviceaccount', 'robot', '-n', ns]);
    byAdmin('create', 'serviceaccounts', 'robot', 201);
    secrets.push((await t.kubectl(['create', 'token', 'robot', '-n', ns])).trim());
    byAdmin('create', 'serviceaccounts', 'robot', 201, 'token');

    const watch = await t.request('/api/v1/namespaces/audited/configmaps?watch=true&timeoutSeconds=1');
    await watch.text();
    auditIds.set(`watch ${watch.headers.get('audit-id')}`, writes[0]);
    await t.kubectl(['get', 'secret', 'deploy-key', '-n', 'audited', '-o', 'json']);
    const refused = await t.request('/apis/gatehouse.dev/v1alpha1/namespaces/audited/consumers', {}, 'wrong-token');
    assert.equal(refused.status, 401);
    await t.stop();
    text = await readFile(logPath, 'utf8');
    events = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('records every write once, with its user, impersonated user and response code', () => {
    const completed = events.filter((e) => e.stage === 'ResponseComplete');
    const writeVerbs = ['create', 'update', 'patch', 'delete', 'deletecollection'];
    const recorded = completed.filter((e) => writeVerbs.includes(e.verb));
    assert.deepEqual(recorded.map((e) => key(writeOf(e))).sort(), writes.map(key).sort());
    for (const [id, write] of auditIds) {
      if (id.startsWith('watch ')) continue;
      const matching = events.filter((e) => e.auditID === id);
      assert.equal(matching.length, 1, `one event with the Audit-Id header ${id} of ${key(write)}`);
      assert.equal(key(writeOf(matching[0])), key(write));
    }
  });

  it("writes kube's Event shape with the authorization decision and the field manager", () => {
    const createOf = (code: number) =>
      events.find(
        (e) => e.verb === 'create' && e.objectRef?.resource === 'consumers' && e.responseStatus?.code === code,
      )!;
    const create = createOf(201);
    assert.equal(create.kind, 'Event');
    assert.equal(create.apiVersion, 'audit.k8s.io/v1');
    assert.equal(create.level, 'RequestResponse');
    assert.deepEqual(create.objectRef, {
      resource: 'consumers',
      namespace: 'audited',
      name: 'shop',
      apiGroup: 'gatehouse.dev',
      apiVersion: 'v1alpha1',
    });
    assert.equal(create.requestURI, `${create.requestURI.split('?')[0]}?fieldManager=audit-test`);
    assert.equal(create.requestURI.split('?')[0], '/apis/gatehouse.dev/v1alpha1/namespaces/audited/consumers');
    const groups = ['gatehouse:admins', 'system:authenticated'];
    assert.deepEqual(create.user, { username: 'alice', uid: 'alice-uid', groups });
    assert.deepEqual(create.sourceIPs, ['127.0.0.1']);
    assert.equal(create.annotations?.['gatehouse.dev/field-manager'], 'audit-test');
    assert.equal(create.annotations?.['authorization.k8s.io/decision'], 'allow');
    assert.equal((create.requestObject as { kind: string }).kind, 'Consumer');
    assert.equal((create.responseObject as { metadata: { uid: string } }).metadata.uid.length > 0, true);
    assert.match(create.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const duplicate = createOf(409);
    assert.equal(duplicate.responseStatus?.reason, 'AlreadyExists');
    assert.equal(duplicate.responseStatus?.status, 'Failure');
    assert.match(duplicate.responseStatus?.message ?? '', /consumers.gatehouse.dev "shop" already exists/);

    const unauthenticated = events.find((e) => e.responseStatus?.code === 401)!;
    assert.deepEqual(
      [unauthenticated.user, unauthenticated.verb, unauthenticated.objectRef?.resource],
      [{ username: '' }, 'list', 'consumers'],
    );
    assert.equal(unauthenticated.responseStatus?.reason, 'Unauthorized');

    const refused = events.find((e) => e.user.username === 'bob')!;
    assert.equal(refused.responseStatus?.code, 403);
    assert.equal(refused.annotations?.['authorization.k8s.io/decision'], 'forbid');

    const kubectlCreate = events.find(
      (e) => e.verb === 'create' && e.objectRef?.name === 'robot' && !e.objectRef.subresource,
    )!;
    assert.equal(kubectlCreate.annotations?.['gatehouse.dev/field-manager'], 'kubectl-create');
    assert.match(kubectlCreate.userAgent ?? '', /^kubectl\//);
    assert.equal(kubectlCreate.level, 'Request');
    assert.equal(kubectlCreate.responseObject, undefined);
  });

  it('records a watch when it starts and when it ends, and reads at Metadata', () => {
    const watch = events.filter((e) => e.verb === 'watch' && e.objectRef?.resource === 'configmaps');
    assert.deepEqual(
      watch.map((e) => e.stage),
      ['ResponseStarted', 'ResponseComplete'],
    );
    assert.equal(watch[0].auditID, watch[1].auditID);
    assert.equal(watch[1].responseStatus?.code, 200);
    const get = events.find((e) => e.verb === 'get' && e.objectRef?.name === 'deploy-key')!;
    assert.equal(get.level, 'Metadata');
    assert.equal(get.stage, 'ResponseComplete');
    assert.equal(
      events.some((e) => e.stage === 'RequestReceived'),
      false,
      'the default policy omits RequestReceived',
    );
  });

  it('holds no Secret data, ApiKey plaintext or token', () => {
    assert.equal(secrets.length, 5);
    for (const secret of secrets) assert.equal(text.includes(secret), false, `the log holds ${secret.slice(0, 12)}…`);
    const apiKey = events.find((e) => e.verb === 'create' && e.objectRef?.resource === 'apikeys')!;
    assert.equal((apiKey.responseObject as { status: { key: string } }).status.key, '[REDACTED]');
    const secretEvents = events.filter((e) => e.objectRef?.resource === 'secrets');
    assert.ok(secretEvents.length >= 4);
    for (const e of secretEvents) assert.equal(e.requestObject ?? e.responseObject, undefined);
  });

  it('gatehouse audit prints the log as a table, filtered by object, user and time', async () => {
    const audit = (...args: string[]) => gatehouse(['audit', '--audit-log-path', logPath, ...args]);
    // Each a process of its own, run at once: they only read the log.
    const [all, consumer, json, none, bad] = await Promise.all([
      audit(),
      audit('--object', 'consumers/shop', '--user', 'alice'),
      audit('--object', 'Consumer/shop', '--since', '1h', '-o', 'json'),
      audit('--since', '0s'),
      audit('--since', 'yesterday'),
    ]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split('\n');
    assert.match(lines[0], /^TIME\s+USER\s+VERB\s+OBJECT\s+CODE/);
    assert.equal(lines.length - 1, events.filter((e) => e.stage !== 'ResponseStarted').length);

    assert.equal(consumer.code, 0, consumer.stderr);
    const rows = consumer.stdout.trim().split('\n').slice(1);
    assert.equal(rows.length, 4, consumer.stdout);
    const request =
      /\s(alice|admin as alice)\s+(create|patch|delete)\s+consumers\.gatehouse\.dev\/audited\/shop\s+(201|409|200)\s/;
    for (const row of rows) assert.match(row, request);

    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as { items: AuditEvent[] };
    assert.equal(listed.items.length, 5, 'by kind too: every request on the Consumer shop');
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /No audit events found/);

    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--since yesterday/);
  });
});

describe('audit log bodies whatever the policy', () => {
  it('records no Secret data, token or ApiKey plaintext even when every body is asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-'));
    const logPath = join(dir, 'audit.log');
    const everything = 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: RequestResponse\n';
    const policy = parseAuditPolicy(everything, 'all');
    const t = await startTestApiServer('memory', { audit: { path: logPath, policy } });
    const secrets: string[] = [SECRET_VALUE, Buffer.from(SECRET_VALUE).toString('base64'), STRING_DATA];
    try {
      await t.kubectl(['create', 'secret', 'generic', 'deploy-key', `--from-literal=key=${SECRET_VALUE}`]);
      await t.kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'applied' },
          stringData: { password: STRING_DATA },
        }),
      );
      await t.kubectl(['get', 'secrets', '-o', 'yaml']);
      await t.kubectl(['delete', 'secret', 'applied']);
      await t.kubectl(['create', 'serviceaccount', 'robot']);
      const token = (await t.kubectl(['create', 'token', 'robot'])).trim();
      secrets.push(token);
      const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } };
      const reviewed = await t.request('/apis/authentication.k8s.io/v1/tokenreviews', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(review),
      });
      assert.equal(reviewed.status, 201);
      const apiKey = {
        apiVersion: 'gatehouse.dev/v1alpha1',
        kind: 'ApiKey',
        metadata: { name: 'k' },
        spec: { consumer: 'c' },
      };
      const minted = await t.request('/apis/gatehouse.dev/v1alpha1/namespaces/default/apikeys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(apiKey),
      });
      secrets.push(((await minted.json()) as { status: { key: string } }).status.key);
    } finally {
      await t.stop();
    }
    const text = await readFile(logPath, 'utf8');
    await rm(dir, { recursive: true, force: true });
    for (const secret of secrets) assert.equal(text.includes(secret), false, `the log holds ${secret.slice(0, 12)}…`);
    const events = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent);
    const reviewEvent = events.find((e) => e.objectRef?.resource === 'tokenreviews' && e.stage === 'ResponseComplete')!;
    assert.equal((reviewEvent.requestObject as { spec: { token: string } }).spec.token, '[REDACTED]');
    const tokenEvent = events.find((e) => e.objectRef?.subresource === 'token' && e.stage === 'ResponseComplete')!;
    assert.equal((tokenEvent.responseObject as { status: { token: string } }).status.token, '[REDACTED]');
    assert.ok((tokenEvent.requestObject as { kind: string }).kind, 'the TokenRequest sent is recorded');
    const robot = events.find(
      (e) =>
        e.objectRef?.resource === 'serviceaccounts' &&
        e.verb === 'create' &&
        !e.objectRef.subresource &&
        e.stage === 'ResponseComplete',
    )!;
    const stored = robot.responseObject as { metadata: { name: string } };
    assert.equal(stored.metadata.name, 'robot', 'other bodies are recorded');
    assert.equal(
      events.some((e) => e.stage === 'RequestReceived'),
      true,
      'no stage omitted',
    );
  });

  it('refuses to start on a policy file kube-apiserver would refuse, naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-'));
    try {
      const policy = join(dir, 'policy.yaml');
      await writeFile(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Everything\n');
      const args = [
        'apiserver',
        '--storage',
        'memory',
        '--data-dir',
        dir,
        '--port',
        '0',
        '--audit-policy-file',
        policy,
        '--audit-log-path',
        join(dir, 'audit.log'),
      ];
      const result = await gatehouse(args);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /audit policy .*policy\.yaml: rules\[0\]\.level: Unsupported value: "Everything"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
