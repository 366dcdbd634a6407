import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { UserInfo } from '../auth/auth.ts';
import { AuditLog } from './audit-log.ts';
import type { AuditEvent } from './event.ts';
import { parseAuditPolicy } from './policy.ts';

const policy = parseAuditPolicy(
  `apiVersion: audit.k8s.io/v1
kind: Policy
omitManagedFields: true
rules:
  - level: RequestResponse
`,
  'test',
);

describe('audit log of requests', () => {
  const lines: string[] = [];
  const log = new AuditLog(policy, { write: (l) => lines.push(l), close: async () => {} });
  const authorizer = log.recordingDecisions({ authorize: async () => ({ allowed: true, reason: 'test rule' }) });
  let server: Server;
  let url: string;
  let route: (req: IncomingMessage, res: ServerResponse, user: UserInfo) => Promise<void> | void = () => {};
  const users = new Map<string, UserInfo>();

  before(async () => {
    server = createServer((req, res) => {
      const name = String(req.headers['x-user']);
      const user = users.get(name) ?? { name, uid: '', groups: [] };
      const url = new URL(req.url ?? '/', 'http://localhost');
      log.begin(req, res, user, url.pathname, url.searchParams);
      void route(req, res, user);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const events = () => lines.splice(0).map((l) => JSON.parse(l) as AuditEvent);
  const get = (path: string, user: string) =>
    fetch(`${url}${path}`, { headers: { 'x-user': user } }).then((r) => r.text());
  const json = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  it('records every stage the policy keeps, the decision, and the answer without managedFields', async () => {
    route = async (_req, res, user) => {
      await authorizer.authorize({
        user,
        verb: 'get',
        group: '',
        resource: 'configmaps',
        namespace: 'default',
        name: 'c',
      });
      const metadata = { name: 'c', managedFields: [{ manager: 'x' }] };
      json(res, 200, { kind: 'ConfigMap', metadata, data: { a: 'b' } });
    };
    await get('/api/v1/namespaces/default/configmaps/c', 'alice');
    const [received, complete] = events();
    assert.equal(received.stage, 'RequestReceived');
    assert.equal(complete.stage, 'ResponseComplete');
    assert.equal(received.auditID, complete.auditID);
    assert.match(received.auditID, /^[0-9a-f-]{36}$/);
    const decision = { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'test rule' };
    assert.deepEqual(complete.annotations, decision);
    assert.deepEqual(complete.responseObject, { kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
  });

  it('keeps an Audit-Id the caller sends, and replaces one that could not be a header of the answer', async () => {
    route = (_req, res) => json(res, 200, {});
    const ids: (string | null)[] = [];
    for (const id of ['kube-apiserver-id-1', 'x'.repeat(129)]) {
      const res = await fetch(`${url}/version`, { headers: { 'x-user': 'alice', 'audit-id': id } });
      await res.text();
      ids.push(res.headers.get('audit-id'));
    }
    assert.equal(ids[0], 'kube-apiserver-id-1');
    assert.match(ids[1] ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      events()
        .filter((e) => e.stage === 'ResponseComplete')
        .map((e) => e.auditID),
      ids,
    );
  });

  it('records an unexpected 500 at stage Panic', async () => {
    const failure = { status: 'Failure', reason: 'InternalError', message: 'boom' };
    route = (_req, res) => json(res, 500, { kind: 'Status', ...failure, code: 500 });
    await get('/api/v1/namespaces', 'alice');
    const complete = events().at(-1)!;
    assert.equal(complete.stage, 'Panic');
    assert.deepEqual(complete.responseStatus, { metadata: {}, code: 500, ...failure });
  });

  it("leaves the decision out rather than give one request another's, when both share a user object", async () => {
    users.set('cached', { name: 'cached', uid: '', groups: [] });
    let arrived = 0;
    let release!: () => void;
    const bothIn = new Promise<void>((resolve) => {
      release = resolve;
    });
    route = async (_req, res, user) => {
      if (++arrived === 2) release();
      await bothIn;
      await authorizer.authorize({ user, verb: 'list', group: '', resource: 'namespaces' });
      json(res, 200, { kind: 'NamespaceList', items: [] });
    };
    await Promise.all([get('/api/v1/namespaces', 'cached'), get('/api/v1/namespaces', 'cached')]);
    const completed = events().filter((e) => e.stage === 'ResponseComplete');
    assert.equal(completed.length, 2);
    for (const e of completed) assert.equal(e.annotations, undefined);
  });
});
