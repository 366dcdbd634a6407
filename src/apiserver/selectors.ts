// Label and field selector parsing with Kubernetes' grammar
// (k8s.io/apimachinery/pkg/labels and pkg/fields). The parsed requirements go to storage,
// which evaluates them in SQL; `gt`/`lt` (numeric comparisons, rare) are evaluated here.
// Watch events are matched with storage's own evaluation (storage/field-selection.ts).
import type { KindDefinition } from '../api/kind.ts';
import type { FieldRequirement, LabelRequirement } from '../storage/storage.ts';
import { errors } from './errors.ts';

export interface NumericRequirement {
  key: string;
  operator: 'gt' | 'lt';
  value: number;
}

export interface LabelSelector {
  /** Requirements storage evaluates. */
  requirements: LabelRequirement[];
  /** `key>N` / `key<N` requirements evaluated after storage returns. */
  numeric: NumericRequirement[];
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function bad(selector: string, why: string) {
  return errors.badRequest(`unable to parse requirement: ${why} (in selector "${selector}")`);
}

function checkKey(selector: string, key: string): string {
  if (!KEY.test(key) || key.length > 316) throw bad(selector, `invalid label key "${key}": must be a qualified name`);
  return key;
}

function checkValue(selector: string, value: string): string {
  if (value.length > 63 || !VALUE.test(value))
    throw bad(
      selector,
      `invalid label value "${value}": must be 63 characters or less and consist of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`,
    );
  return value;
}

/** Splits at top-level commas (commas inside `in (...)` sets belong to the set). */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts.map((p) => p.trim());
}

const SET = /^(\S+)\s+(in|notin)\s*\((.*)\)$/;
const CMP = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/;

export function parseLabelSelector(selector: string | undefined): LabelSelector {
  const result: LabelSelector = { requirements: [], numeric: [] };
  if (!selector?.trim()) return result;
  for (const part of splitTopLevel(selector)) {
    if (!part) throw bad(selector, 'empty requirement');
    const set = SET.exec(part);
    if (set) {
      const values = set[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (values.length === 0 && set[2] === 'in') throw bad(selector, `for 'in' operator, a set of values is required`);
      result.requirements.push({
        key: checkKey(selector, set[1]),
        operator: set[2] as 'in' | 'notin',
        values: values.map((v) => checkValue(selector, v)),
      });
      continue;
    }
    if (part.startsWith('!')) {
      result.requirements.push({ key: checkKey(selector, part.slice(1).trim()), operator: '!', values: [] });
      continue;
    }
    const cmp = CMP.exec(part);
    if (cmp) {
      const [, key, op, raw] = cmp;
      const value = raw.trim();
      checkKey(selector, key);
      if (op === '>' || op === '<') {
        const n = Number(value);
        if (!/^-?\d+$/.test(value))
          throw bad(selector, `for '${op}' operator, the value must be an integer, got "${value}"`);
        result.numeric.push({ key, operator: op === '>' ? 'gt' : 'lt', value: n });
      } else {
        result.requirements.push({
          key,
          operator: op === '!=' ? 'notin' : 'in',
          values: [checkValue(selector, value)],
        });
      }
      continue;
    }
    result.requirements.push({ key: checkKey(selector, part), operator: 'exists', values: [] });
  }
  return result;
}

export function matchesNumeric(numeric: NumericRequirement[], labels: Record<string, string> | undefined): boolean {
  for (const r of numeric) {
    const raw = labels?.[r.key];
    if (raw === undefined || !/^-?\d+$/.test(raw)) return false;
    const n = Number(raw);
    if (r.operator === 'gt' ? !(n > r.value) : !(n < r.value)) return false;
  }
  return true;
}

/** Evaluates requirements in memory, for watch events (storage evaluates lists). */
export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const r of selector.requirements) {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    const value = has ? labels[r.key] : undefined;
    switch (r.operator) {
      case 'in':
        if (!has || !r.values.includes(value as string)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(value as string)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case '!':
        if (has) return false;
        break;
    }
  }
  return matchesNumeric(selector.numeric, labels);
}

type FieldSource = { field: 'name' | 'namespace' } | { field: 'json'; paths: string[][] };

const fieldSourcesOf = new WeakMap<Pick<KindDefinition, 'selectableFields' | 'storedAs'>, Map<string, FieldSource>>();

/** What a field selector label selects on a kind: the key's columns for metadata.name and
 * metadata.namespace (every kind), paths into the stored object for its selectable fields (for a kind
 * stored as another, the stored kind's fields its labels name). */
function fieldSources(def: Pick<KindDefinition, 'selectableFields' | 'storedAs'>): Map<string, FieldSource> {
  let sources = fieldSourcesOf.get(def);
  if (!sources) {
    sources = new Map<string, FieldSource>([
      ['metadata.name', { field: 'name' }],
      ['metadata.namespace', { field: 'namespace' }],
    ]);
    if (def.storedAs) {
      const stored = fieldSources(def.storedAs.kind);
      for (const [label, storedLabel] of Object.entries(def.storedAs.fieldLabels)) {
        const source = stored.get(storedLabel);
        if (source) sources.set(label, source);
      }
    }
    for (const selectable of def.selectableFields ?? []) {
      const { label, paths } = typeof selectable === 'string' ? { label: selectable, paths: [selectable] } : selectable;
      sources.set(label, { field: 'json', paths: paths.map((path) => path.split('.')) });
    }
    fieldSourcesOf.set(def, sources);
  }
  return sources;
}

/** Splits at commas not escaped by a backslash (k8s.io/apimachinery/pkg/fields splitTerms). */
function splitFieldTerms(selector: string): string[] {
  const terms: string[] = [];
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    if (selector[i] === '\\') i++;
    else if (selector[i] === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** Undoes `\\`, `\,` and `\=`; unescaped `,` and `=` are refused, as kube does. */
function unescapeFieldValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') {
      const next = value[++i];
      if (next !== '\\' && next !== ',' && next !== '=') {
        throw errors.badRequest(`invalid field selector: invalid escape sequence: \\${next ?? ''}`);
      }
      out += next;
    } else if (c === ',' || c === '=') {
      throw errors.badRequest(`invalid field selector: unescaped character in value: ${c}`);
    } else {
      out += c;
    }
  }
  return out;
}

/** Parses a field selector with kube-apiserver's grammar (k8s.io/apimachinery/pkg/fields):
 * terms `label=value`, `label==value` or `label!=value` joined by commas, the operator being
 * the first `!=`, `==` or `=` in the term. Labels are metadata.name, metadata.namespace and
 * the kind's selectable fields; any other is refused with kube's message. */
export function parseFieldSelector(
  selector: string | undefined,
  def: Pick<KindDefinition, 'selectableFields' | 'storedAs'>,
): FieldRequirement[] {
  if (!selector) return [];
  const sources = fieldSources(def);
  const requirements: FieldRequirement[] = [];
  for (const term of splitFieldTerms(selector)) {
    if (term === '') continue;
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(term);
    if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [, label, op, raw] = m;
    const source = sources.get(label);
    if (!source) throw errors.badRequest(`field label not supported: ${label}`);
    requirements.push({ ...source, operator: op === '!=' ? '!=' : '=', value: unescapeFieldValue(raw) });
  }
  return requirements;
}
