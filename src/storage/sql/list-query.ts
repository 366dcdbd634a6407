import type { FieldRequirement, LabelRequirement, ListOptions } from '../storage.ts';

/** Collects statement parameters and hands out their $n placeholders. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export interface ListQuery {
  text: string;
  params: unknown[];
}

const HEAD = (resource: string, count: string) => `
WITH head AS (
  SELECT greatest(coalesce((SELECT max(revision) FROM gatehouse_log), 0), m.compacted) AS current,
         m.compacted,
         coalesce((SELECT max(revision) FROM gatehouse_log WHERE resource = ${resource}), 0) AS last_write,
         ${count} AS total
    FROM gatehouse_meta m
)
SELECT head.current, head.compacted, head.last_write, head.total,
       i.namespace, i.name, i.value, i.revision, i.create_revision
  FROM head LEFT JOIN LATERAL (`;

const TAIL = `) i ON true
 ORDER BY i.namespace, i.name`;

/**
 * One statement (one database snapshot) returning the head row — current revision,
 * compacted revision, the last write of the resource, and optionally the count of all
 * matches — joined with up to limit+1 matching items in (namespace, name) order.
 *
 * `from: 'objects'` reads the current table. `from: 'log'` reads the state at
 * `options.revision` from the log: the latest row per key at or below it, unless a delete.
 * Identity conditions go inside DISTINCT ON (a key's identity never changes), label and
 * JSON field conditions outside it.
 */
export function buildListQuery(options: ListOptions, from: 'objects' | 'log', withCount: boolean): ListQuery {
  const p = new Params();
  const resource = p.add(options.resource);
  const identity = [`resource = ${resource}`];
  if (options.namespace !== undefined) identity.push(`namespace = ${p.add(options.namespace)}`);
  // Conditions on a row's labels and value; in the log only the latest row's count.
  const content = (options.labels ?? []).map((req) => labelCondition(req, p));
  let doc: string | undefined;
  for (const field of options.fields ?? []) {
    if (field.field === 'json') content.push(jsonFieldCondition(field, (doc ??= jsonDocument(p)), p));
    else identity.push(`${field.field} ${field.operator === '=' ? '=' : '<>'} ${p.add(field.value)}`);
  }
  const count =
    withCount && from === 'objects'
      ? `(SELECT count(*) FROM gatehouse_objects WHERE ${[...identity, ...content].join(' AND ')})`
      : 'NULL::bigint';
  const after = options.after
    ? [`(namespace, name) > (${p.add(options.after.namespace)}, ${p.add(options.after.name)})`]
    : [];
  const limit = options.limit ? ` LIMIT ${p.add(options.limit + 1)}` : '';
  const head = HEAD(resource, count);
  if (from === 'objects') {
    const where = [...identity, ...after, ...content].join(' AND ');
    return {
      text: `${head}SELECT namespace, name, value, revision, create_revision FROM gatehouse_objects
        WHERE ${where} ORDER BY namespace, name${limit}${TAIL}`,
      params: p.values,
    };
  }
  const snapshot = p.add(options.revision ?? 0);
  const inner = [...identity, ...after, `revision <= ${snapshot}`].join(' AND ');
  const outer = ["type <> 'DELETED'", ...content].join(' AND ');
  return {
    text: `${head}SELECT namespace, name, value, revision, create_revision FROM (
        SELECT DISTINCT ON (namespace, name) namespace, name, type, labels, value, revision, create_revision
          FROM gatehouse_log WHERE ${inner} ORDER BY namespace, name, revision DESC) s
        WHERE ${outer} ORDER BY namespace, name${limit}${TAIL}`,
    params: p.values,
  };
}

/** The row's value as jsonb. PostgreSQL refuses the escape \u0000 in JSON (its text cannot
 * hold NUL), so a value holding one has each such escape, when not itself an escaped
 * backslash, read as \ufffd first, as field-selection.ts does. */
function jsonDocument(p: Params): string {
  const nul = p.add(String.raw`\u0000`);
  const escapedNul = p.add(String.raw`(?<![\\])((?:\\\\)*)\\u0000`);
  const replaced = `regexp_replace(value, ${escapedNul}, ${p.add(String.raw`\1\\ufffd`)}, 'g')`;
  return `(CASE WHEN strpos(value, ${nul}) = 0 THEN value ELSE ${replaced} END)::jsonb`;
}

/** The value of field-selection.ts' jsonFieldValue: `#>>` renders strings, numbers and
 * booleans as that function's String() does, and gives NULL for absent paths and JSON null. */
function jsonFieldCondition(req: FieldRequirement & { field: 'json' }, doc: string, p: Params): string {
  const candidates = req.paths.map((path) => `nullif(${doc} #>> ${p.add(path)}::text[], '')`);
  return `coalesce(${candidates.join(', ')}, '') ${req.operator === '=' ? '=' : '<>'} ${p.add(req.value)}`;
}

function labelCondition(req: LabelRequirement, p: Params): string {
  switch (req.operator) {
    case 'in':
      return `labels ->> ${p.add(req.key)} = ANY(${p.add(req.values)}::text[])`;
    case 'notin': {
      const key = p.add(req.key);
      return `(labels ->> ${key} IS NULL OR labels ->> ${key} <> ALL(${p.add(req.values)}::text[]))`;
    }
    case 'exists':
      return `labels ? ${p.add(req.key)}`;
    case '!':
      return `NOT labels ? ${p.add(req.key)}`;
  }
}
