// Hostile client input against every verb of the API server: a corpus of bodies, query
// parameters and paths that once answered 500, stored what could not be read back, or took
// the process down. Every answer must be below 500 and, when it refuses, a metav1.Status.
// Runs on PGlite, whose PostgreSQL text refuses what the memory driver would keep (NUL).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';

const AD = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions';
const CM = '/api/v1/namespaces/default/configmaps';
const JSON_TYPE = 'application/json';
const YAML_TYPE = 'application/yaml';
const PROTOBUF = 'application/vnd.kubernetes.protobuf';

function api(name: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name },
    spec: { listenPath: `/${name}/`, upstream: { targets: [{ url: 'http://127.0.0.1:9000' }] }, ...spec },
  };
}

/** `{"a":{"a":…}}`, `levels` objects deep. */
function nested(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

/** An ApiDefinition with `value` inside a JSON Web Key, a field kept as sent. */
function withKey(name: string, value: string): string {
  const body = JSON.stringify(api(name, { auth: { type: 'jwt', jwt: { jwks: { keys: [{ kty: 'oct', x: '@' }] } } } }));
  return body.replace('"@"', value);
}

function withMetadata(metadata: Record<string, unknown>): string {
  return JSON.stringify({ ...api('victim'), metadata: { name: 'victim', ...metadata } });
}

function continueToken(position: string): string {
  return Buffer.from(`{"v":1,"r":"gatehouse.dev/apidefinitions",${position}}`).toString('base64url');
}

const laughs = [...'abcdefghi']
  .map(
    (n, i) =>
      `${n}: &${n} [${Array(9)
        .fill(i ? `*${'abcdefgh'[i - 1]}` : '"lol"')
        .join(',')}]`,
  )
  .join('\n');
const big = 'x'.repeat(100_000);

interface Body {
  label: string;
  type: string;
  body: string | Buffer;
  /** Decodes to a JSON object: refused by the store, not by the decoder. */
  decodes?: true;
}

/** Bodies no verb may store or choke on. */
const BODIES: Body[] = [
  { label: 'JSON 5,000 deep in a kept field', type: JSON_TYPE, body: withKey('deep', nested(5000)) },
  { label: 'JSON 2,000 deep in a kept field', type: JSON_TYPE, body: withKey('deep', nested(2000)) },
  { label: 'JSON arrays a million deep', type: JSON_TYPE, body: `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}` },
  { label: 'NUL in the name', type: JSON_TYPE, body: JSON.stringify(api('a\u0000b')), decodes: true },
  { label: 'NUL in a label', type: JSON_TYPE, body: withMetadata({ labels: { a: 'b\u0000' } }), decodes: true },
  { label: 'NUL in a namespace', type: JSON_TYPE, body: withMetadata({ namespace: 'de\u0000fault' }), decodes: true },
  { label: 'billion laughs', type: YAML_TYPE, body: laughs },
  { label: 'aliases past 3 MiB', type: YAML_TYPE, body: `a: &big "${big}"\nb: [${Array(40).fill('*big')}]\n` },
  { label: 'YAML flow a million deep', type: YAML_TYPE, body: '['.repeat(1_000_000) },
  { label: 'YAML compact sequences 10,000 deep', type: YAML_TYPE, body: `${'- '.repeat(10_000)}x\n` },
  { label: 'YAML mappings 100,000 deep', type: YAML_TYPE, body: `${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}` },
  { label: 'invalid UTF-8', type: JSON_TYPE, body: Buffer.from('{"\xc0\x80\xff":1}', 'latin1'), decodes: true },
  { label: 'not JSON', type: JSON_TYPE, body: '{"apiVersion": ' },
  { label: 'a JSON array', type: JSON_TYPE, body: '[1,2,3]' },
  { label: 'a JSON string', type: JSON_TYPE, body: '"hello"' },
  { label: 'JSON null', type: JSON_TYPE, body: 'null' },
  { label: 'a number past float range', type: JSON_TYPE, body: withKey('huge', '1e999'), decodes: true },
  { label: '__proto__', type: JSON_TYPE, body: '{"__proto__":{"kind":"X"},"metadata":{"__proto__":1}}', decodes: true },
  { label: 'protobuf garbage', type: PROTOBUF, body: Buffer.from('k8s\0\xff\xff\xff\xff\x0f', 'latin1') },
  { label: 'empty', type: JSON_TYPE, body: '', decodes: true },
];

/** Query strings every verb is sent. */
const QUERIES = [
  'limit=99999999999999999999999',
  'limit=9223372036854775807',
  'limit=-1',
  'limit=abc',
  'limit=1e3',
  'timeoutSeconds=99999999999999999999',
  'timeoutSeconds=-5',
  'timeoutSeconds=soon',
  'resourceVersion=99999999999999999999999',
  'resourceVersion=abc',
  'resourceVersion=%00',
  'resourceVersion=-1',
  'resourceVersionMatch=Newest',
  'continue=%00',
  'continue=garbage!',
  `continue=${continueToken('"rv":1,"ns":"a\\u0000","n":"b"')}`,
  `continue=${continueToken(`"rv":${Number.MAX_SAFE_INTEGER},"ns":"default","n":"b"`)}`,
  'fieldSelector=metadata.name%3Da%00b',
  'fieldSelector=%3D%3D%3D',
  'fieldSelector=spec.nope%3Dx',
  'labelSelector=a%00',
  'labelSelector=!!!',
  'labelSelector=a%20in%20(',
  'gracePeriodSeconds=99999999999999999999',
  'gracePeriodSeconds=x',
  'propagationPolicy=Sideways',
  'dryRun=Nope',
  'fieldValidation=Nope',
  'includeObject=Nope',
  'sendInitialEvents=maybe',
  'a%00b=1',
];

/** Paths with hostile segments, for reads and writes alike. */
const PATHS = [
  '/apis/gatehouse.dev/v1alpha1/namespaces/de%00fault/apidefinitions',
  `${AD}/a%00b`,
  `${AD}/a%00b/status`,
  `${AD}/%ZZ`,
  `${AD}/%C0%80`,
  `${AD}/${'n'.repeat(5000)}`,
  '/api/v1/namespaces/a%00b',
  '/api/v1/namespaces/default/configmaps/%00',
];

interface Verb {
  name: string;
  method: string;
  path: string;
  /** Content type of a valid body for this verb; undefined when it takes none. */
  type?: string;
  watch?: boolean;
}

const VERBS: Verb[] = [
  { name: 'create', method: 'POST', path: AD, type: JSON_TYPE },
  { name: 'create (core)', method: 'POST', path: CM, type: JSON_TYPE },
  { name: 'update', method: 'PUT', path: `${AD}/victim`, type: JSON_TYPE },
  { name: 'update (core)', method: 'PUT', path: `${CM}/victim`, type: JSON_TYPE },
  { name: 'json patch', method: 'PATCH', path: `${AD}/victim`, type: 'application/json-patch+json' },
  { name: 'merge patch', method: 'PATCH', path: `${AD}/victim`, type: 'application/merge-patch+json' },
  { name: 'strategic patch', method: 'PATCH', path: `${CM}/victim`, type: 'application/strategic-merge-patch+json' },
  { name: 'apply patch', method: 'PATCH', path: `${AD}/victim`, type: 'application/apply-patch+yaml' },
  { name: 'get', method: 'GET', path: `${AD}/victim` },
  { name: 'list', method: 'GET', path: AD },
  { name: 'watch', method: 'GET', path: `${AD}?watch=1`, watch: true },
  { name: 'watch (path)', method: 'GET', path: AD.replace('/v1alpha1/', '/v1alpha1/watch/'), watch: true },
  { name: 'watch one', method: 'GET', path: `${AD}/victim?watch=true`, watch: true },
  { name: 'delete', method: 'DELETE', path: `${AD}/victim`, type: JSON_TYPE },
  { name: 'deletecollection', method: 'DELETE', path: AD, type: JSON_TYPE },
  { name: 'get status', method: 'GET', path: `${AD}/victim/status` },
  { name: 'update status', method: 'PUT', path: `${AD}/victim/status`, type: JSON_TYPE },
  { name: 'patch status', method: 'PATCH', path: `${AD}/victim/status`, type: 'application/merge-patch+json' },
  { name: 'probe', method: 'POST', path: `${AD}/victim/probe`, type: JSON_TYPE },
];

interface Init {
  type?: string;
  body?: string | Buffer;
  watch?: boolean;
}

describe('API server under hostile input', () => {
  let t: TestApiServer;
  before(async () => {
    // A delegated subresource (probe) with no gateway running answers 503 at once.
    t = await startTestApiServer('pglite:memory', { delegation: { claimTimeoutMs: 1 } });
    await restoreVictims();
  });
  after(() => t.stop());

  async function restoreVictims(): Promise<void> {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'victim' }, data: { a: 'b' } };
    for (const [collection, object] of [
      [AD, api('victim')],
      [CM, cm],
    ] as const) {
      if ((await t.request(`${collection}/victim`)).status !== 404) continue;
      const body = JSON.stringify(object);
      const res = await t.request(collection, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body });
      assert.equal(res.status, 201);
    }
  }

  /** Sends one request; asserts no 5xx, and a Status naming the refusal when refused. */
  async function send(what: string, method: string, path: string, init: Init = {}): Promise<number> {
    const abort = new AbortController();
    const headers: Record<string, string> = init.type ? { 'content-type': init.type } : {};
    const body = typeof init.body === 'string' || init.body === undefined ? init.body : new Uint8Array(init.body);
    const res = await t.request(path, { method, headers, body, signal: abort.signal });
    if (res.status < 300 && init.watch) {
      abort.abort();
      return res.status;
    }
    const text = await res.text();
    assert.ok(res.status < 500, `${what}: ${res.status} ${text.slice(0, 300)}`);
    if (res.status >= 400) {
      const status = JSON.parse(text);
      assert.equal(status.kind, 'Status', `${what}: ${text.slice(0, 300)}`);
      assert.equal(status.code, res.status, what);
      assert.ok(status.message, what);
    }
    if (method !== 'GET') await restoreVictims();
    return res.status;
  }

  it('answers every body of the corpus to every verb that takes one without a 5xx', async () => {
    for (const verb of VERBS.filter((v) => v.type)) {
      // A probe takes whatever decodes to the gateway, and none runs here (503).
      for (const body of BODIES.filter((b) => verb.name !== 'probe' || !b.decodes)) {
        const type = body.type === JSON_TYPE ? verb.type : body.type;
        await send(`${verb.name} with ${body.label}`, verb.method, verb.path, { type, body: body.body });
      }
    }
  });

  it('answers every query of the corpus to every verb without a 5xx', async () => {
    for (const verb of VERBS.filter((v) => v.name !== 'probe')) {
      for (const query of QUERIES) {
        const path = `${verb.path}${verb.path.includes('?') ? '&' : '?'}${query}`;
        const valid = verb.type?.includes('json-patch') ? [] : api('victim');
        const body = verb.type && verb.method !== 'DELETE' ? JSON.stringify(valid) : undefined;
        await send(`${verb.name} ?${query}`, verb.method, path, { type: verb.type, body, watch: verb.watch });
      }
    }
  });

  it('answers every hostile path to every method without a 5xx', async () => {
    for (const path of PATHS) {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
        const type = method === 'PATCH' ? 'application/merge-patch+json' : JSON_TYPE;
        await send(`${method} ${path.slice(0, 80)}`, method, path, { type, body: method === 'GET' ? undefined : '{}' });
      }
    }
  });

  it('reads Python-style bool parameters as kube-apiserver does', async () => {
    assert.equal(await send('watch=True', 'GET', `${AD}?watch=True&allowWatchBookmarks=True`, { watch: true }), 200);
    const res = await t.request(`${AD}?watch=True&timeoutSeconds=1`);
    assert.match(await res.text(), /"type":"ADDED".*"name":"victim"/);
  });

  it('stored nothing from the corpus, and every list still reads back in JSON, YAML and Table', async () => {
    const list = (await (await t.request(AD)).json()) as { items: { metadata: { name: string } }[] };
    const names = list.items.map((i) => i.metadata.name);
    assert.deepEqual(names, ['victim']);
    for (const accept of ['application/json', 'application/yaml', 'application/json;as=Table;v=v1;g=meta.k8s.io']) {
      const res = await t.request(AD, { headers: { accept } });
      assert.equal(res.status, 200, `${accept}: ${await res.text()}`);
    }
  });

  it('refuses a patch that would grow an object past the nesting or size bound, naming the object', async () => {
    const deepKey = withKey('grown', nested(90));
    const created = await t.request(AD, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: deepKey });
    assert.equal(created.status, 201);
    // Each patch is within the bound on its own; the object it would make is not.
    const path = `/spec/auth/jwt/jwks/keys/0/x${'/a'.repeat(89)}`;
    const grow = await t.request(`${AD}/grown`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'add', path: `${path}/b`, value: JSON.parse(nested(60)) }]),
    });
    const status = await grow.json();
    assert.equal(grow.status, 400, JSON.stringify(status));
    const field = 'spec.auth.jwt.jwks.keys[0].x.a.a.a.a.a…';
    const message = `ApiDefinition "grown" is nested too deeply: ${field} is nested more than 100 levels deep`;
    assert.equal(status.message, message);

    const addKey = (k: string) =>
      t.request(`${AD}/grown`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json-patch+json' },
        body: JSON.stringify([{ op: 'add', path: '/spec/auth/jwt/jwks/keys/-', value: { kty: 'oct', k } }]),
      });
    const grown = await addKey('y'.repeat(2_000_000));
    assert.equal(grown.status, 200);
    // Read whole: a response left unread keeps its connection, and closing the client would wait for it.
    await grown.arrayBuffer();
    const tooLarge = await addKey('z'.repeat(2_000_000));
    assert.equal(tooLarge.status, 413);
    assert.match((await tooLarge.json()).message, /^ApiDefinition "grown" is larger than 3145728 bytes as JSON$/);
    const stored = await (await t.request(`${AD}/grown`)).json();
    assert.equal(stored.spec.auth.jwt.jwks.keys.length, 2);
  });

  it('keeps a NUL inside a string it stores, and selects and watches objects holding one', async () => {
    const body = JSON.stringify({ ...api('nul'), metadata: { name: 'nul', annotations: { note: 'a\u0000b' } } });
    assert.equal((await t.request(AD, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body })).status, 201);
    const selected = await t.request(`${AD}?fieldSelector=spec.listenPath%3D%2Fnul%2F`);
    assert.equal(selected.status, 200);
    const items = (await selected.json()).items as { metadata: { annotations: object } }[];
    assert.deepEqual(
      items.map((i) => i.metadata.annotations),
      [{ note: 'a\u0000b' }],
    );
    const watched = await t.request(`${AD}?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Dnul`);
    assert.match(await watched.text(), /"type":"ADDED".*"note":"a\\u0000b"/);
  });
});
