// Output shared by the CLI's read commands: kubectl-style tables built from a kind's
// printer columns, and -o yaml|json.
import { stringify } from 'yaml';
import type { KindDefinition, KubeObject } from '../api/kind.ts';
import { rowOf } from '../apiserver/http/table.ts';

export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json';

export function parseOutput(value: string): OutputFormat {
  if (value === 'table' || value === 'wide' || value === 'yaml' || value === 'json') return value;
  throw new Error(`-o ${value}: expected table, wide, yaml or json`);
}

/** Objects of one kind as the format asks; `allNamespaces` adds a NAMESPACE column. */
export function formatObjects(
  def: KindDefinition,
  objects: KubeObject[],
  format: OutputFormat,
  allNamespaces: boolean,
): string {
  if (format === 'json')
    return `${JSON.stringify(objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
  if (format === 'yaml')
    return stringify(objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects });
  const wide = format === 'wide';
  const columns = def.printerColumns.filter((c) => wide || c.priority === 0);
  const header = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', ...columns.map((c) => c.name.toUpperCase())];
  const now = Date.now();
  const rows = objects.map((o) => {
    const cells = rowOf(def, o, 'None', 'v1', now).cells;
    const shown = [
      cells[0],
      ...def.printerColumns
        .map((c, i) => ({ c, v: cells[i + 1] }))
        .filter(({ c }) => wide || c.priority === 0)
        .map(({ v }) => v),
    ];
    return [
      ...(allNamespaces ? [o.metadata.namespace ?? ''] : []),
      ...shown.map((v) => (v === null || v === undefined ? '' : String(v))),
    ];
  });
  return table([header, ...rows]);
}

/** A field's value in a diff line: JSON, or `(absent)`. */
export function showValue(value: unknown): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

/** Left-aligned columns separated by three spaces, as kubectl prints them. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] + 3)))
      .join('')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}
