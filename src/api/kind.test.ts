// Contracts of KindDefinition that hold across every kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JSONSchema } from './kind.ts';
import { allKinds } from './kinds.ts';

test('selectable fields name string, integer or boolean fields of the kind, as CRD selectableFields must', () => {
  for (const def of allKinds) {
    for (const selectable of def.selectableFields ?? []) {
      const paths = typeof selectable === 'string' ? [selectable] : selectable.paths;
      for (const path of paths) {
        let schema: JSONSchema | undefined = def.schema;
        for (const step of path.split('.')) schema = schema?.properties?.[step];
        assert.ok(schema && ['string', 'integer', 'boolean'].includes(schema.type ?? ''), `${def.kind} ${path}`);
      }
    }
  }
});

test('Kubernetes built-in kinds, and only they, take a missing apiVersion and kind from the URL', () => {
  for (const def of allKinds) assert.equal(def.builtIn === true, def.group !== 'gatehouse.dev', def.kind);
});
