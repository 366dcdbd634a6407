// Every stored kind's create, update and server-side apply with one field replaced by a value of another shape (null, a string, a
// number, arrays and objects, empty or holding null), over HTTP with dryRun=All: the answer is a 4xx Status or,
// where the schema takes null as an absent field, the object; never a 500. Kind strategies run steps before validation (minting an ApiKey, defaulting RoleBinding subjects, folding
// a Secret's stringData); those must leave what validation refuses to validation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';
import { kindsMissing, objectOfEveryKind } from './support/every-kind.ts';

// biome-ignore lint/suspicious/noExplicitAny: bodies are JSON of every kind's shape
type Obj = Record<string, any>;

const WRONG: unknown[] = [null, 'x', 5, [], [null], {}, { x: null }];
const JSON_TYPE = 'application/json';
/** Server-side apply; JSON is YAML. */
const APPLY_TYPE = 'application/apply-patch+yaml';

/** The paths worth breaking in `body`: every field down to three levels (an array's first item standing for its
 * items), and the metadata fields a strategy or the store reads. */
function pathsOf(body: Obj): Array<Array<string | number>> {
  const paths: Array<Array<string | number>> = [
    ['metadata'],
    ['metadata', 'name'],
    ['metadata', 'generateName'],
    ['metadata', 'namespace'],
    ['metadata', 'labels'],
    ['metadata', 'annotations'],
    ['metadata', 'finalizers'],
    ['metadata', 'ownerReferences'],
    ['metadata', 'resourceVersion'],
  ];
  const walk = (value: unknown, path: Array<string | number>) => {
    if (path.length) paths.push(path);
    if (path.length === 3) return;
    if (Array.isArray(value)) {
      if (value.length) walk(value[0], [...path, 0]);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
    }
  };
  for (const [key, value] of Object.entries(body)) {
    if (key !== 'apiVersion' && key !== 'kind' && key !== 'metadata') walk(value, [key]);
  }
  return paths;
}

function withValue(body: Obj, path: Array<string | number>, value: unknown): Obj {
  const copy = structuredClone(body);
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  parent[path.at(-1) as string] = value;
  return copy;
}

describe('hostile bodies of every kind', () => {
  let t: TestApiServer;
  const objects = objectOfEveryKind('hostile');

  before(async () => {
    t = await startTestApiServer();
    for (const [path, body] of objects) {
      const res = await t.request(path.slice(0, path.lastIndexOf('/')), {
        method: 'POST',
        headers: { 'content-type': JSON_TYPE },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, `${path}: ${await res.text()}`);
    }
  });
  after(() => t?.stop());

  it('covers every kind', () => {
    assert.deepEqual(kindsMissing(objects), []);
  });

  it('answers a create or an update with a field of another shape with a 4xx Status, never a 500', async () => {
    const failures: string[] = [];
    let tried = 0;
    for (const [path, body] of objects) {
      const collection = path.slice(0, path.lastIndexOf('/'));
      const stored = (await (await t.request(path)).json()) as Obj;
      for (const field of pathsOf(body)) {
        for (const value of WRONG) {
          const attempts: Array<[method: string, url: string, sent: Obj, type: string]> = [
            [
              'POST',
              `${collection}?`,
              withValue({ ...body, metadata: { name: 'hostile-new' } }, field, value),
              JSON_TYPE,
            ],
            ['PUT', `${path}?`, withValue({ ...body, metadata: { ...stored.metadata } }, field, value), JSON_TYPE],
            ['PATCH', `${path}?fieldManager=hostile&force=true&`, withValue(body, field, value), APPLY_TYPE],
          ];
          for (const [method, url, sent, type] of attempts) {
            tried++;
            const res = await t.request(`${url}dryRun=All`, {
              method,
              headers: { 'content-type': type },
              body: JSON.stringify(sent),
            });
            const answer = (await res.json()) as Obj;
            const what = `${method} ${url} with ${field.join('.')} = ${JSON.stringify(value)}`;
            if (res.status >= 500) failures.push(`${what}: ${res.status} ${answer.message}`);
            else if (res.status >= 400 && answer.kind !== 'Status')
              failures.push(`${what}: ${res.status} not a Status`);
          }
        }
      }
    }
    assert.ok(tried > 1000, `tried ${tried} bodies`);
    assert.equal(failures.length, 0, `${failures.length} answers of ${tried}:\n${failures.join('\n')}`);
  });
});
