// Black-box HTTP tests of the API server: bad input, authentication and authorization,
// preconditions, subresources, non-resource endpoints, watch and alternative
// representations, each asserting the exact metav1.Status and that nothing was stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { watchEvents } from './support/watch.ts';

/** A parsed JSON document. */
// biome-ignore lint/suspicious/noExplicitAny: the test reads API responses loosely, deep into JSON whose shape it asserts
type Json = Record<string, any>;

const AD = '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions';
const VIEWER_TOKEN = 'viewer-token-0123456789';
const JSON_TYPE = { 'content-type': 'application/json' };

interface Api {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

function api(name: string, spec: Record<string, unknown> = {}): Api {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name },
    spec: { listenPath: `/${name}/`, upstream: { targets: [{ url: 'http://127.0.0.1:9000' }] }, ...spec },
  };
}

interface ExpectedStatus {
  code: number;
  reason: string;
  message: RegExp;
  causes?: { field: string; reason?: string }[];
}

/** Asserts a metav1.Status response and returns it. */
async function assertStatus(res: Response, expected: ExpectedStatus): Promise<Json> {
  const text = await res.text();
  assert.equal(res.status, expected.code, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const status = JSON.parse(text);
  assert.equal(status.kind, 'Status');
  assert.equal(status.apiVersion, 'v1');
  assert.equal(status.status, 'Failure');
  assert.equal(status.code, expected.code);
  assert.equal(status.reason, expected.reason);
  assert.match(status.message, expected.message);
  if (expected.causes) {
    assert.deepEqual(
      status.details.causes.map((c: { field: string; reason: string }) =>
        expected.causes?.[0]?.reason ? { field: c.field, reason: c.reason } : { field: c.field },
      ),
      expected.causes,
    );
  }
  return status;
}

describe('API server over HTTP', () => {
  let t: TestApiServer;

  const post = (path: string, body: unknown, headers: Record<string, string> = JSON_TYPE) =>
    t.request(path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const put = (path: string, body: unknown) =>
    t.request(path, { method: 'PUT', headers: JSON_TYPE, body: JSON.stringify(body) });
  const get = async (path: string): Promise<Json> => {
    const res = await t.request(path);
    assert.equal(res.status, 200, `GET ${path}`);
    return res.json() as Promise<Json>;
  };
  /** Names of the ApiDefinitions stored in `default`. */
  const stored = async (): Promise<string[]> => (await get(AD)).items.map((i: Api) => i.metadata.name);
  const assertNotStored = async (name: string) =>
    assert.ok(!(await stored()).includes(name), `${name} must not be stored`);
  const create = async (obj: Api): Promise<Api> => {
    const res = await post(AD, obj);
    assert.equal(res.status, 201, await res.clone().text());
    return res.json() as Promise<Api>;
  };

  before(async () => {
    t = await startTestApiServer('memory', { tokens: [`${VIEWER_TOKEN},vera,vera-uid,"gatehouse:viewers"`] });
  });
  after(async () => {
    await t.stop();
  });

  describe('bad bodies', () => {
    it('refuses malformed JSON', async () => {
      await assertStatus(await post(AD, '{"apiVersion": "gatehouse.dev/v1alpha1", "kind":'), {
        code: 400,
        reason: 'BadRequest',
        message: /^the request body for a new ApiDefinition is not valid JSON: /,
      });
      assert.deepEqual(await stored(), []);
    });

    it('refuses malformed YAML', async () => {
      await assertStatus(
        await post(AD, 'apiVersion: gatehouse.dev/v1alpha1\nkind: ApiDefinition\nmetadata: {name: [unclosed\n', {
          'content-type': 'application/yaml',
        }),
        {
          code: 400,
          reason: 'BadRequest',
          message: /^the request body for a new ApiDefinition is not valid YAML: /,
        },
      );
      assert.deepEqual(await stored(), []);
    });

    it('accepts well-formed YAML', async () => {
      const res = await post(
        AD,
        'apiVersion: gatehouse.dev/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: yaml-made\nspec:\n  listenPath: /y/\n  upstream:\n    targets: [{url: "http://127.0.0.1:9000"}]\n',
        { 'content-type': 'application/yaml' },
      );
      assert.equal(res.status, 201);
      assert.ok((await stored()).includes('yaml-made'));
    });

    it('applies fieldValidation Strict, Warn and Ignore to unknown fields', async () => {
      const strict = api('strict-one', { bogus: true });
      await assertStatus(await post(`${AD}?fieldValidation=Strict`, strict), {
        code: 400,
        reason: 'BadRequest',
        message: /^strict decoding error: unknown field "spec\.bogus" in ApiDefinition "strict-one"$/,
        causes: [{ field: 'spec.bogus' }],
      });
      await assertNotStored('strict-one');

      const warned = await post(`${AD}?fieldValidation=Warn`, api('warned', { bogus: true }));
      assert.equal(warned.status, 201);
      assert.equal(warned.headers.get('warning'), '299 - "unknown field \\"spec.bogus\\""');
      assert.equal((await warned.json()).spec.bogus, undefined, 'unknown fields are pruned');

      const ignored = await post(`${AD}?fieldValidation=Ignore`, api('ignored', { bogus: true }));
      assert.equal(ignored.status, 201);
      assert.equal(ignored.headers.get('warning'), null);
      assert.equal((await get(`${AD}/ignored`)).spec.bogus, undefined);

      await assertStatus(await post(`${AD}?fieldValidation=Loose`, api('loose')), {
        code: 400,
        reason: 'BadRequest',
        message: /^invalid fieldValidation value "Loose": must be one of "Ignore", "Warn" or "Strict"$/,
      });
      await assertNotStored('loose');
    });

    it('refuses a protobuf body for a gatehouse kind with 415', async () => {
      // k8s\0 + runtime.Unknown{typeMeta{apiVersion, kind}, raw}; every length is below 128.
      const field = (n: number, bytes: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, bytes.length]), bytes]);
      const typeMeta = Buffer.concat([
        field(1, Buffer.from('gatehouse.dev/v1alpha1')),
        field(2, Buffer.from('ApiDefinition')),
      ]);
      const raw = Buffer.concat([
        Buffer.from('k8s\0', 'binary'),
        field(1, typeMeta),
        field(2, field(1, field(1, Buffer.from('proto')))),
      ]);
      const res = await t.request(AD, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.kubernetes.protobuf' },
        body: raw,
      });
      await assertStatus(res, {
        code: 415,
        reason: 'UnsupportedMediaType',
        message:
          /^the protobuf body for a new ApiDefinition holds ApiDefinition \(gatehouse\.dev\/v1alpha1\); protobuf is accepted only for v1\/Namespace, v1\/Secret, v1\/ConfigMap, v1\/Event/,
      });
      await assertNotStored('proto');
    });

    it('refuses a wrong apiVersion or kind', async () => {
      await assertStatus(await post(AD, { ...api('wrong-version'), apiVersion: 'gatehouse.dev/v2' }), {
        code: 400,
        reason: 'BadRequest',
        message:
          /^the API version in the data \(gatehouse\.dev\/v2\) does not match the expected API version \(gatehouse\.dev\/v1alpha1\) for ApiDefinition "wrong-version"$/,
      });
      await assertStatus(await post(AD, { ...api('wrong-kind'), kind: 'SecurityPolicy' }), {
        code: 400,
        reason: 'BadRequest',
        message:
          /^the kind in the data \(SecurityPolicy\) does not match the expected kind \(ApiDefinition\) for ApiDefinition "wrong-kind"$/,
      });
      const stillThere = await stored();
      assert.ok(!stillThere.includes('wrong-version') && !stillThere.includes('wrong-kind'));
    });

    it('refuses a name that is not a DNS-1123 subdomain with 422 naming metadata.name', async () => {
      const status = await assertStatus(await post(AD, api('Bad_Name')), {
        code: 422,
        reason: 'Invalid',
        message:
          /^ApiDefinition\.gatehouse\.dev "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
        causes: [{ field: 'metadata.name', reason: 'FieldValueInvalid' }],
      });
      assert.deepEqual(
        { name: status.details.name, group: status.details.group, kind: status.details.kind },
        { name: 'Bad_Name', group: 'gatehouse.dev', kind: 'ApiDefinition' },
      );
      await assertNotStored('Bad_Name');
    });

    it('refuses a body over 3 MiB with 413', async () => {
      const big = api('huge', { description: 'x'.repeat(3 * 1024 * 1024) });
      await assertStatus(await post(AD, big), {
        code: 413,
        reason: 'RequestEntityTooLarge',
        message: /^Request entity too large: limit is 3145728$/,
      });
      await assertNotStored('huge');
    });

    it('refuses a namespace in the body that differs from the URL', async () => {
      const obj = api('elsewhere');
      obj.metadata.namespace = 'other';
      await assertStatus(await post(AD, obj), {
        code: 400,
        reason: 'BadRequest',
        message:
          /^the namespace of the provided object \(other\) does not match the namespace sent on the request \(default\)/,
      });
      await assertNotStored('elsewhere');
    });

    it('answers a create in a namespace that does not exist with 404', async () => {
      const status = await assertStatus(
        await post('/apis/gatehouse.dev/v1alpha1/namespaces/nowhere/apidefinitions', api('lost')),
        {
          code: 404,
          reason: 'NotFound',
          message: /^namespaces "nowhere" not found$/,
        },
      );
      assert.deepEqual(status.details, { group: '', kind: 'namespaces', name: 'nowhere' });
      assert.deepEqual(
        (await get('/apis/gatehouse.dev/v1alpha1/apidefinitions')).items.filter((i: Api) => i.metadata.name === 'lost'),
        [],
      );
    });
  });

  describe('list parameters', () => {
    it('refuses a bad labelSelector and an unsupported fieldSelector', async () => {
      await assertStatus(await t.request(`${AD}?labelSelector=${encodeURIComponent('team in (a')}`), {
        code: 400,
        reason: 'BadRequest',
        message: /^unable to parse requirement: .* \(in selector "team in \(a"\)$/,
      });
      await assertStatus(await t.request(`${AD}?fieldSelector=${encodeURIComponent('spec.upstream.timeout=1s')}`), {
        code: 400,
        reason: 'BadRequest',
        message: /^field label not supported: spec\.upstream\.timeout$/,
      });
    });

    it('refuses a forged continue token and expires one older than compaction', async () => {
      await assertStatus(
        await t.request(
          `${AD}?limit=1&continue=${Buffer.from('{"v":1,"r":"gatehouse.dev/apidefinitions"}').toString('base64url')}`,
        ),
        {
          code: 400,
          reason: 'BadRequest',
          message: /^continue key is not valid: unexpected token contents$/,
        },
      );
      await assertStatus(await t.request(`${AD}?limit=1&continue=not%20a%20token`), {
        code: 400,
        reason: 'BadRequest',
        message: /^continue key is not valid: the token could not be decoded$/,
      });
      const first = await get(`${AD}?limit=1`);
      assert.ok(first.metadata.continue, 'more than one ApiDefinition is stored');
      const fresh = await get(`${AD}?limit=1&continue=${first.metadata.continue}`);
      assert.equal(fresh.items.length, 1);

      await create(api('after-token'));
      await t.storage.compact(await t.storage.currentRevision());
      await assertStatus(await t.request(`${AD}?limit=1&continue=${first.metadata.continue}`), {
        code: 410,
        reason: 'Expired',
        message: /^The provided continue parameter is too old to display a consistent list result/,
      });
    });
  });

  describe('updates, patches and deletes', () => {
    let shop: Api;
    before(async () => {
      shop = await create(api('shop'));
    });

    it('refuses a PUT whose body names another object', async () => {
      await assertStatus(await put(`${AD}/shop`, { ...shop, metadata: { ...shop.metadata, name: 'other' } }), {
        code: 400,
        reason: 'BadRequest',
        message: /^the name of the object \(other\) does not match the name on the URL \(shop\)$/,
      });
      await assertNotStored('other');
    });

    it('answers a PUT with a stale resourceVersion with 409 and one without with 422', async () => {
      const current = await get(`${AD}/shop`);
      const stale = {
        ...current,
        metadata: { ...current.metadata, resourceVersion: String(Number(current.metadata.resourceVersion) - 1) },
        spec: { ...current.spec, listenPath: '/stale/' },
      };
      await assertStatus(await put(`${AD}/shop`, stale), {
        code: 409,
        reason: 'Conflict',
        message:
          /^Operation cannot be fulfilled on apidefinitions\.gatehouse\.dev "shop": the object has been modified; please apply your changes to the latest version and try again$/,
      });
      const { resourceVersion: _, ...withoutRv } = current.metadata;
      await assertStatus(
        await put(`${AD}/shop`, { ...current, metadata: withoutRv, spec: { ...current.spec, listenPath: '/norv/' } }),
        {
          code: 422,
          reason: 'Invalid',
          message: /^ApiDefinition\.gatehouse\.dev "shop" is invalid: metadata\.resourceVersion: /,
          causes: [{ field: 'metadata.resourceVersion' }],
        },
      );
      const after = await get(`${AD}/shop`);
      assert.equal(after.spec.listenPath, '/shop/');
      assert.equal(after.metadata.resourceVersion, current.metadata.resourceVersion);
    });

    it('refuses strategic merge patches on a custom kind and unknown patch types with 415', async () => {
      const patch = (type: string) =>
        t.request(`${AD}/shop`, {
          method: 'PATCH',
          headers: { 'content-type': type },
          body: '{"spec":{"listenPath":"/p/"}}',
        });
      await assertStatus(await patch('application/strategic-merge-patch+json'), {
        code: 415,
        reason: 'UnsupportedMediaType',
        message: new RegExp(
          '^the body of the request was in an unknown format \\(application/strategic-merge-patch\\+json\\) - ' +
            'accepted media types include: application/json-patch\\+json, application/merge-patch\\+json, ' +
            'application/apply-patch\\+yaml$',
        ),
      });
      await assertStatus(await patch('text/plain'), {
        code: 415,
        reason: 'UnsupportedMediaType',
        message: /unknown format \(text\/plain\)/,
      });
      assert.equal((await get(`${AD}/shop`)).spec.listenPath, '/shop/');
    });

    it('answers an Accept of protobuf only with 406', async () => {
      await assertStatus(
        await t.request(`${AD}/shop`, { headers: { accept: 'application/vnd.kubernetes.protobuf' } }),
        {
          code: 406,
          reason: 'NotAcceptable',
          message: /^only the following media types are accepted: application\/json, application\/yaml$/,
        },
      );
    });

    it('refuses a DELETE whose uid precondition fails with 409', async () => {
      const res = await t.request(`${AD}/shop`, {
        method: 'DELETE',
        headers: JSON_TYPE,
        body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'not-the-uid' } }),
      });
      await assertStatus(res, {
        code: 409,
        reason: 'Conflict',
        message: new RegExp(
          `^Operation cannot be fulfilled on apidefinitions\\.gatehouse\\.dev "shop": Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${shop.metadata.uid}$`,
        ),
      });
      assert.ok((await stored()).includes('shop'));
    });

    it('stores nothing for a dry-run create but answers with the object', async () => {
      const res = await post(`${AD}?dryRun=All`, api('dry'));
      assert.equal(res.status, 201);
      const obj = await res.json();
      assert.equal(obj.metadata.name, 'dry');
      assert.ok(obj.metadata.uid);
      assert.equal(obj.spec.auth.type, 'keyless', 'defaults are applied');
      await assertNotStored('dry');
      await assertStatus(await post(`${AD}?dryRun=All`, api('shop')), {
        code: 409,
        reason: 'AlreadyExists',
        message: /^apidefinitions\.gatehouse\.dev "shop" already exists$/,
      });
      await assertStatus(await post(`${AD}?dryRun=Some`, api('dry')), {
        code: 400,
        reason: 'BadRequest',
        message: /^invalid dryRun value "Some"/,
      });
    });

    it('creates with generateName', async () => {
      const res = await post(AD, { ...api(''), metadata: { generateName: 'gen-' } });
      assert.equal(res.status, 201);
      const obj = await res.json();
      assert.match(obj.metadata.name, /^gen-[a-z0-9]{5}$/);
      assert.ok((await stored()).includes(obj.metadata.name));
    });

    it('keeps status and spec apart: /status, the main resource and generation', async () => {
      const current = await get(`${AD}/shop`);
      assert.equal(current.metadata.generation, 1);
      const status = {
        observedGeneration: 1,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Accepted',
            message: 'ok',
            lastTransitionTime: '2024-01-01T00:00:00Z',
            observedGeneration: 1,
          },
        ],
      };
      const res = await put(`${AD}/shop/status`, {
        ...current,
        spec: { ...current.spec, listenPath: '/via-status/' },
        status,
      });
      assert.equal(res.status, 200, await res.clone().text());
      const afterStatus = await res.json();
      assert.deepEqual(afterStatus.status, status);
      assert.equal(afterStatus.spec.listenPath, '/shop/', 'a status update leaves spec alone');
      assert.equal(afterStatus.metadata.generation, 1, 'a status update does not bump generation');

      const res2 = await put(`${AD}/shop`, {
        ...afterStatus,
        spec: { ...afterStatus.spec, listenPath: '/shop2/' },
        status: { observedGeneration: 99 },
      });
      assert.equal(res2.status, 200);
      const afterSpec = await res2.json();
      assert.deepEqual(afterSpec.status, status, 'the main resource ignores status');
      assert.equal(afterSpec.spec.listenPath, '/shop2/');
      assert.equal(afterSpec.metadata.generation, 2, 'a spec change bumps generation');

      const res3 = await put(`${AD}/shop`, {
        ...afterSpec,
        metadata: { ...afterSpec.metadata, labels: { tier: 'gold' } },
      });
      assert.equal((await res3.json()).metadata.generation, 2, 'a metadata change does not bump generation');
    });
  });

  describe('authentication and authorization', () => {
    it('answers a missing or unknown token with 401', async () => {
      await assertStatus(await t.request(AD, {}, null), {
        code: 401,
        reason: 'Unauthorized',
        message: /^Unauthorized$/,
      });
      await assertStatus(await t.request(AD, {}, 'no-such-token'), {
        code: 401,
        reason: 'Unauthorized',
        message: /^Unauthorized$/,
      });
      await assertStatus(await t.request('/apis', {}, null), {
        code: 401,
        reason: 'Unauthorized',
        message: /^Unauthorized$/,
      });
    });

    it('lets a viewer list but not create', async () => {
      const list = await t.request(AD, {}, VIEWER_TOKEN);
      assert.equal(list.status, 200);
      assert.equal((await list.json()).kind, 'ApiDefinitionList');
      const res = await t.request(
        AD,
        { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(api('by-viewer')) },
        VIEWER_TOKEN,
      );
      const status = await assertStatus(res, {
        code: 403,
        reason: 'Forbidden',
        message:
          /^apidefinitions\.gatehouse\.dev is forbidden: User "vera" cannot create resource "apidefinitions" in API group "gatehouse\.dev" in the namespace "default"/,
      });
      assert.deepEqual(status.details, { group: 'gatehouse.dev', kind: 'apidefinitions' });
      await assertNotStored('by-viewer');
    });
  });

  describe('non-resource endpoints', () => {
    it('serves health and version without a token', async () => {
      for (const path of ['/healthz', '/livez']) {
        const res = await t.request(path, {}, null);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'ok');
      }
      const ready = await t.request('/readyz?verbose', {}, null);
      assert.equal(ready.status, 200);
      assert.equal(await ready.text(), '[+]ping ok\n[+]storage ok\n[+]storage-writable ok\nreadyz check passed\n');
      const live = await t.request('/livez?verbose', {}, null);
      assert.equal(await live.text(), '[+]ping ok\nlivez check passed\n', 'readiness checks only in /readyz');
      const version = await t.request('/version', {}, null);
      assert.equal(version.status, 200);
      const v = await version.json();
      assert.equal(v.major, '1');
      assert.match(v.gitVersion, /^v1\.\d+\.0\+gatehouse-/);
    });

    it('serves aggregated discovery v2 with its exact content type', async () => {
      const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9';
      const res = await t.request('/apis', { headers: { accept } });
      assert.equal(res.status, 200);
      assert.equal(
        res.headers.get('content-type'),
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
      );
      const doc = await res.json();
      assert.equal(doc.kind, 'APIGroupDiscoveryList');
      assert.ok(doc.items.some((g: { metadata: { name: string } }) => g.metadata.name === 'gatehouse.dev'));
    });
  });

  describe('representations', () => {
    it('serves a Table with column definitions and rows', async () => {
      const res = await t.request(AD, {
        headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
      });
      assert.equal(res.status, 200);
      const table = await res.json();
      assert.equal(table.kind, 'Table');
      assert.equal(table.apiVersion, 'meta.k8s.io/v1');
      assert.deepEqual(
        table.columnDefinitions.slice(0, 2).map((c: { name: string }) => c.name),
        ['Name', 'Listen Path'],
      );
      const row = table.rows.find((r: { cells: unknown[] }) => r.cells[0] === 'shop');
      assert.equal(row.cells[1], '/shop2/');
      assert.equal(row.object.kind, 'PartialObjectMetadata');
    });

    it('serves a PartialObjectMetadataList', async () => {
      const res = await t.request(AD, {
        headers: { accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io' },
      });
      assert.equal(res.status, 200);
      const list = await res.json();
      assert.equal(list.kind, 'PartialObjectMetadataList');
      assert.equal(list.apiVersion, 'meta.k8s.io/v1');
      const shop = list.items.find((i: Api) => i.metadata.name === 'shop');
      assert.equal(shop.kind, 'PartialObjectMetadata');
      assert.equal(shop.spec, undefined);
      assert.deepEqual(shop.metadata.labels, { tier: 'gold' });
    });
  });

  describe('watch', () => {
    it('resumes from a resourceVersion with exactly the later events, in order, and ends at timeoutSeconds', async () => {
      const created = await create(api('watched'));
      const rvs: string[] = [];
      for (const path of ['/w1/', '/w2/']) {
        const res = await t.request(`${AD}/watched`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({ spec: { listenPath: path } }),
        });
        rvs.push((await res.json()).metadata.resourceVersion);
      }
      const deleted = await (await t.request(`${AD}/watched`, { method: 'DELETE' })).json();
      rvs.push(deleted.metadata.resourceVersion);
      const seen: [string, string, string][] = [];
      const res = await t.request(
        `${AD}?watch=true&fieldSelector=metadata.name%3Dwatched&resourceVersion=${created.metadata.resourceVersion}&timeoutSeconds=1`,
      );
      for await (const event of watchEvents<Json>(res))
        seen.push([event.type, event.object.metadata.resourceVersion, event.object.spec.listenPath]);
      assert.deepEqual(seen, [
        ['MODIFIED', rvs[0], '/w1/'],
        ['MODIFIED', rvs[1], '/w2/'],
        ['DELETED', rvs[2], '/w2/'],
      ]);
    });

    it('sends a BOOKMARK when allowed', async () => {
      const { metadata } = await get(AD);
      const abort = new AbortController();
      const res = await t.request(
        `${AD}?watch=true&allowWatchBookmarks=true&resourceVersion=${metadata.resourceVersion}&timeoutSeconds=30`,
        { signal: abort.signal },
      );
      let bookmark: Json | undefined;
      try {
        for await (const event of watchEvents<Json>(res)) {
          assert.equal(event.type, 'BOOKMARK');
          bookmark = event.object;
          break;
        }
      } finally {
        abort.abort();
      }
      assert.deepEqual(bookmark, {
        kind: 'ApiDefinition',
        apiVersion: 'gatehouse.dev/v1alpha1',
        metadata: { resourceVersion: metadata.resourceVersion },
      });
    });

    it('validates sendInitialEvents and streams initial events ended by an annotated BOOKMARK', async () => {
      await assertStatus(await t.request(`${AD}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true`), {
        code: 422,
        reason: 'Invalid',
        message:
          /sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the resourceVersionMatch is set to NotOlderThan/,
        causes: [{ field: 'sendInitialEvents' }],
      });
      const names = (await stored()).sort();
      const abort = new AbortController();
      const res = await t.request(
        `${AD}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`,
        { signal: abort.signal },
      );
      const added: string[] = [];
      let end: Json | undefined;
      try {
        for await (const event of watchEvents<Json>(res)) {
          if (event.type === 'ADDED') {
            added.push(event.object.metadata.name);
            continue;
          }
          assert.equal(event.type, 'BOOKMARK');
          end = event.object;
          break;
        }
      } finally {
        abort.abort();
      }
      assert.deepEqual(added.sort(), names);
      assert.deepEqual(end?.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
      assert.match(end?.metadata.resourceVersion, /^\d+$/);
    });

    it('answers a watch from a compacted resourceVersion with an ERROR event of code 410', async () => {
      const old = (await create(api('before-compaction'))).metadata.resourceVersion;
      await create(api('after-compaction'));
      await t.storage.compact(await t.storage.currentRevision());
      const events = [];
      for await (const event of watchEvents<Json>(await t.request(`${AD}?watch=true&resourceVersion=${old}`)))
        events.push(event);
      assert.equal(events.length, 1);
      assert.equal(events[0].type, 'ERROR');
      assert.equal(events[0].object.kind, 'Status');
      assert.equal(events[0].object.code, 410);
      assert.equal(events[0].object.reason, 'Expired');
      assert.match(events[0].object.message, /^too old resource version: /);
    });
  });
});
