// Every manifest under examples/ is a valid object of its kind, with no unknown fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './kind.ts';
import { kindFor } from './kinds.ts';
import { findUnknownFields } from './schema/index.ts';
import { admitCreate, describe } from './testing.ts';

const root = new URL('../../examples/', import.meta.url).pathname;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const files = yamlFiles(root);

test('examples include APIs, policies and consumers', () => {
  const kinds = new Set(
    files.flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => (d.toJS() as KubeObject).kind)),
  );
  for (const kind of ['ApiDefinition', 'SecurityPolicy', 'Consumer']) assert.ok(kinds.has(kind), kind);
});

for (const file of files) {
  test(`example ${relative(root, file)} validates`, () => {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      assert.deepEqual(doc.errors, []);
      const obj = doc.toJS() as KubeObject;
      const def = kindFor(obj.apiVersion, obj.kind);
      assert.ok(def, `${obj.apiVersion} ${obj.kind} is a known kind`);
      // Examples leave the namespace to the Sync that applies them.
      if (def.namespaced) obj.metadata.namespace ??= 'default';
      assert.deepEqual(findUnknownFields(def, obj), [], obj.metadata.name);
      assert.deepEqual(describe(admitCreate(def, obj).errors), [], obj.metadata.name);
    }
  });
}
