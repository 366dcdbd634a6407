import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors.ts';
import { MAX_NESTING_DEPTH, MAX_OBJECT_BYTES } from '../object-bounds.ts';
import { decodeBody } from './body.ts';

function refused(fn: () => unknown, reason: string, message: RegExp): ApiError {
  let caught: unknown;
  assert.throws(fn, (err: unknown) => {
    caught = err;
    return err instanceof ApiError;
  });
  const err = caught as ApiError;
  assert.equal(err.reason, reason, err.message);
  assert.match(err.message, message);
  return err;
}

const json = (text: string) => decodeBody(Buffer.from(text), 'application/json', 'a new ApiDefinition');
const yaml = (text: string) => decodeBody(Buffer.from(text), 'application/yaml', 'a new ApiDefinition');

/** `{"a":{"a":…1}}` with `levels` objects. */
function nestedJson(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

test('a JSON body nested past the bound is a 400 naming the field where it goes too deep', () => {
  assert.ok(json(nestedJson(MAX_NESTING_DEPTH)));
  const err = refused(
    () => json(`{"spec":{"keys":[${nestedJson(5000)}]}}`),
    'BadRequest',
    new RegExp(
      '^the request body for a new ApiDefinition is nested too deeply: ' +
        'spec\\.keys\\[0\\]\\.a\\.a\\.a\\.a\\.a\\.a\\.a\\.a\\.a… is nested more than 100 levels deep$',
    ),
  );
  assert.equal(err.details?.causes?.[0]?.field, 'spec.keys[0].a.a.a.a.a.a.a.a.a…');
  const arrays = MAX_NESTING_DEPTH + 1;
  refused(() => json(`${'['.repeat(arrays)}${']'.repeat(arrays)}`), 'BadRequest', /nested too deeply/);
});

test('YAML nested past the bound is refused before it is parsed, in flow and block style', () => {
  // Each of these stalls or aborts the YAML parser when thousands of levels deep.
  const tooDeep = /nested too deeply: more than 100 levels of YAML collections$/;
  refused(() => yaml('['.repeat(1_000_000)), 'BadRequest', tooDeep);
  refused(() => yaml(`${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}`), 'BadRequest', tooDeep);
  refused(() => yaml(`${'- '.repeat(10_000)}x\n`), 'BadRequest', tooDeep);
  const indented = Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
  refused(() => yaml(`${indented} 1\n`), 'BadRequest', tooDeep);
});

test('YAML within the bound decodes as it is, brackets in strings and block scalars included', () => {
  const text = [
    'apiVersion: gatehouse.dev/v1alpha1',
    'kind: ApiDefinition',
    'metadata:',
    '  name: shop',
    '  annotations:',
    `    note: "${'['.repeat(300)}"`,
    `    plain: '${'{'.repeat(300)}'`,
    '    script: |',
    `      ${'['.repeat(300)}`,
    'spec:',
    '  upstream:',
    '    targets:',
    '    - url: http://127.0.0.1:9000',
    '      weight: 1',
    '    - {url: "http://127.0.0.1:9001", weight: [[[1]]]}',
    '  # a comment with [[[[',
    '',
  ].join('\n');
  type Decoded = { metadata: { annotations: Record<string, string> }; spec: { upstream: { targets: unknown[] } } };
  const decoded = yaml(text) as Decoded;
  assert.equal(decoded.metadata.annotations.note, '['.repeat(300));
  assert.equal(decoded.metadata.annotations.script, `${'['.repeat(300)}\n`);
  assert.deepEqual(decoded.spec.upstream.targets, [
    { url: 'http://127.0.0.1:9000', weight: 1 },
    { url: 'http://127.0.0.1:9001', weight: [[[1]]] },
  ]);

  // The deepest accepted body in block style: one key per level.
  const deepest = Array.from({ length: MAX_NESTING_DEPTH }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
  let value = yaml(`${deepest} 1\n`);
  for (let i = 0; i < MAX_NESTING_DEPTH; i++) value = (value as { a: unknown }).a;
  assert.equal(value, 1);
});

test('YAML aliases: the billion laughs is a 400, an expansion past 3 MiB a 413', () => {
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  const names = 'abcdefghi';
  for (let i = 1; i < names.length; i++) {
    laughs.push(
      `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(',')}]`,
    );
  }
  const excessive = /^the request body for a new ApiDefinition is refused: Excessive alias count .* \(YAML aliases\)$/;
  refused(() => yaml(laughs.join('\n')), 'BadRequest', excessive);

  // 40 uses of one 100 KB anchor: within the alias count, 4 MB once expanded.
  const big = 'x'.repeat(100_000);
  const text = `metadata: {annotations: {a: &big "${big}"}}\nspec: [${Array(40).fill('*big').join(', ')}]\n`;
  assert.ok(text.length < MAX_OBJECT_BYTES);
  const tooLarge = /^the request body for a new ApiDefinition is larger than 3145728 bytes as JSON$/;
  refused(() => yaml(text), 'RequestEntityTooLarge', tooLarge);
  // The same anchor used a few times is an ordinary body.
  assert.equal((yaml(`a: &big "${big}"\nb: [*big, *big]\n`) as { b: string[] }).b[1], big);
});

test('an apply body in JSON, a YAML flow mapping or block YAML decodes to the same object', () => {
  const apply = (text: string) => decodeBody(Buffer.from(text), 'application/apply-patch+yaml', 'an apply');
  const expected = { metadata: { name: 'a' }, data: { 'x: y': 'z', n: 1, on: 'yes' } };
  assert.deepEqual(apply(JSON.stringify(expected)), expected);
  assert.deepEqual(apply('{metadata: {name: a}, data: {"x: y": z, n: 1, "on": "yes"}}'), expected);
  assert.deepEqual(apply('metadata:\n  name: a\ndata:\n  "x: y": z\n  n: 1\n  "on": "yes"\n'), expected);
  refused(() => apply('{metadata: {name: a'), 'BadRequest', /is not valid YAML/);
});
