// docs/resources.md documents every field, default and printer column of every kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { JSONSchema } from './kind.ts';
import { allKinds } from './kinds.ts';

const doc = readFileSync(new URL('../../docs/resources.md', import.meta.url), 'utf8');

function fieldRows(schema: JSONSchema, path: string, out: Map<string, JSONSchema>): void {
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const p = path ? `${path}.${name}` : name;
    out.set(p, child);
    if (child.type === 'object' && !child['x-kubernetes-preserve-unknown-fields']) fieldRows(child, p, out);
    if (
      child.type === 'array' &&
      child.items?.type === 'object' &&
      !child.items['x-kubernetes-preserve-unknown-fields']
    )
      fieldRows(child.items, `${p}[]`, out);
  }
}

for (const def of allKinds) {
  test(`docs/resources.md covers ${def.kind}`, () => {
    const start = doc.indexOf(`\n## ${def.kind}\n`);
    assert.ok(start >= 0, `section for ${def.kind}`);
    const end = doc.indexOf('\n## ', start + 1);
    const section = doc.slice(start, end < 0 ? undefined : end);
    const fields = new Map<string, JSONSchema>();
    fieldRows(def.schema, '', fields);
    for (const [path, schema] of fields) {
      // Conditions and observedGeneration are described once, under Conventions.
      if (/^status\.(conditions|observedGeneration)/.test(path) && def.group) continue;
      const row = section.split('\n').find((line) => line.startsWith(`| \`${path}\` |`));
      assert.ok(row, `${def.kind} ${path} is documented`);
      if (schema.default !== undefined)
        assert.ok(row.includes(`\`${JSON.stringify(schema.default)}\``), `${def.kind} ${path} default`);
    }
    const columns = def.printerColumns.map((c) => `${c.name.toUpperCase()}${c.priority ? ' (wide)' : ''}`).join(', ');
    assert.ok(section.includes(`Printer columns: NAME, ${columns}.`), `${def.kind} printer columns`);
    const selectable = (def.selectableFields ?? []).map((f) => `\`${typeof f === 'string' ? f : f.label}\``).join(', ');
    const listed = /\nField selectors: ([\s\S]*?)\.\n/.exec(section)?.[1].replace(/\s+/g, ' ') ?? '';
    assert.equal(listed, selectable, `${def.kind} field selectors`);
    for (const short of def.shortNames) assert.ok(section.includes(short), `${def.kind} short name ${short}`);
  });
}
