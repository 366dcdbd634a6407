// The counters endpoint gateways share rate limit and quota counts through: totals, bad
// input answered with a Status naming the field, authentication and authorization.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COUNTERS_PATH, MAX_COUNTER_INCREMENTS } from '../src/api/counters.ts';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';

const GATEWAY_TOKEN = 'gateway-token';
const VIEWER_TOKEN = 'viewer-token';
const LATER = Date.now() + 3_600_000;

interface StatusBody {
  kind: string;
  code: number;
  reason: string;
  message: string;
  details?: { causes?: Array<{ field: string; reason: string; message: string }> };
}

describe('counters endpoint', () => {
  let t: TestApiServer;
  const post = (body: unknown, token?: string | null, headers: Record<string, string> = {}) =>
    t.request(
      COUNTERS_PATH,
      {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...headers },
      },
      token,
    );
  const status = async (res: Response): Promise<StatusBody> => {
    const body = (await res.json()) as StatusBody;
    assert.equal(body.kind, 'Status');
    assert.equal(body.code, res.status);
    return body;
  };

  before(async () => {
    t = await startTestApiServer('memory', {
      tokens: [`${GATEWAY_TOKEN},gw,gw-uid,"gatehouse:gateways"`, `${VIEWER_TOKEN},vera,vera-uid,"gatehouse:viewers"`],
    });
  });
  after(() => t.stop());

  it('adds increments and answers the totals in order', async () => {
    const first = await post({
      increments: [
        { key: 'rate:api:default/shop:60000', window: 60_000, delta: 3, expiresAt: LATER },
        { key: 'other', window: 0, delta: 0, expiresAt: LATER },
      ],
    });
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { totals: [3, 0] });
    const second = await post(
      { increments: [{ key: 'rate:api:default/shop:60000', window: 60_000, delta: 2, expiresAt: LATER }] },
      GATEWAY_TOKEN,
    );
    assert.deepEqual(await second.json(), { totals: [5] });
    assert.deepEqual(await (await post({ increments: [] })).json(), { totals: [] });
  });

  it('lets administrators and gateways in, and nobody else', async () => {
    const body = { increments: [{ key: 'authz', window: 0, delta: 1, expiresAt: LATER }] };
    assert.equal((await post(body, null)).status, 401);
    const viewer = await status(await post(body, VIEWER_TOKEN));
    assert.equal(viewer.code, 403);
    assert.match(
      viewer.message,
      /^counters\.gatehouse\.dev is forbidden: User "vera" cannot create resource "counters" in API group "gatehouse\.dev"/,
    );
    assert.deepEqual(
      await (await post({ increments: [{ key: 'authz', window: 0, delta: 0, expiresAt: LATER }] })).json(),
      { totals: [0] },
      'a refused request adds nothing',
    );
    const gateway = await t.request('/apis/gatehouse.dev/v1alpha1/apidefinitions', {}, GATEWAY_TOKEN);
    assert.equal(gateway.status, 200, 'gateways read the resources they serve');
    const write = await t.request(
      '/apis/gatehouse.dev/v1alpha1/namespaces/default/apidefinitions',
      { method: 'POST', body: '{}' },
      GATEWAY_TOKEN,
    );
    assert.equal(write.status, 403, 'gateways write nothing else');
  });

  it('serves POST only', async () => {
    const res = await t.request(COUNTERS_PATH);
    assert.equal((await status(res)).reason, 'MethodNotAllowed');
  });

  it('refuses a body that is not a JSON object with 400', async () => {
    const notJson = await status(await post('{"increments": ['));
    assert.deepEqual([notJson.code, notJson.reason], [400, 'BadRequest']);
    assert.match(notJson.message, /^the request body for the counters is not valid JSON/);
    const array = await status(await post([]));
    assert.deepEqual(
      [array.code, array.message],
      [400, 'the request body for the counters must be a JSON object with an "increments" array'],
    );
  });

  it('refuses bad increments with 422, one cause per field', async () => {
    const missing = await status(await post({}));
    assert.deepEqual([missing.code, missing.reason], [422, 'Invalid']);
    assert.deepEqual(missing.details?.causes, [
      { reason: 'FieldValueRequired', field: 'increments', message: 'Required value' },
    ]);

    const bad = await status(
      await post({
        increments: [
          { key: 'ok', window: 0, delta: 1, expiresAt: LATER },
          { key: '', window: -1, delta: 1.5, expiresAt: 'soon' },
          { window: 0, delta: 1 },
          'x',
          { key: 'k'.repeat(1025), window: 0, delta: 1, expiresAt: LATER },
        ],
      }),
    );
    assert.equal(bad.code, 422);
    assert.deepEqual(
      bad.details?.causes?.map((c) => `${c.field} ${c.reason}`),
      [
        'increments[1].key FieldValueInvalid',
        'increments[1].window FieldValueInvalid',
        'increments[1].delta FieldValueInvalid',
        'increments[1].expiresAt FieldValueInvalid',
        'increments[2].key FieldValueRequired',
        'increments[2].expiresAt FieldValueRequired',
        'increments[3] FieldValueTypeInvalid',
        'increments[4].key FieldValueTooLong',
      ],
    );
    assert.match(
      bad.message,
      /^Counters\.gatehouse\.dev "" is invalid: \[increments\[1\]\.key: Invalid value: "": must be a non-empty string, increments\[1\]\.window: Invalid value: -1: must be a non-negative integer, /,
    );
    assert.deepEqual(
      await (await post({ increments: [{ key: 'ok', window: 0, delta: 0, expiresAt: LATER }] })).json(),
      { totals: [0] },
      'nothing of a refused batch is added',
    );

    const many = await status(
      await post({
        increments: Array.from({ length: MAX_COUNTER_INCREMENTS + 1 }, () => ({
          key: 'k',
          window: 0,
          delta: 1,
          expiresAt: LATER,
        })),
      }),
    );
    assert.deepEqual(
      many.details?.causes?.map((c) => [c.field, c.message]),
      [['increments', `Too many: ${MAX_COUNTER_INCREMENTS + 1}: must have at most ${MAX_COUNTER_INCREMENTS} items`]],
    );
    const type = await status(await post({ increments: {} }));
    assert.deepEqual(
      type.details?.causes?.map((c) => [c.field, c.reason]),
      [['increments', 'FieldValueTypeInvalid']],
    );
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await post({
      increments: [{ key: 'x'.repeat(4 * 1024 * 1024), window: 0, delta: 1, expiresAt: LATER }],
    });
    assert.equal((await status(res)).reason, 'RequestEntityTooLarge');
  });
});
