import type { LabelRequirement, ObjectKey } from '../storage.ts';

/**
 * Orders strings by code point, which is the byte order of their UTF-8 encoding and so
 * the order PostgreSQL gives with COLLATE "C". Plain `<` compares UTF-16 code units,
 * which puts surrogate pairs (U+10000 and above) before U+E000..U+FFFF.
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) - codeUnitRank(y);
  }
  return a.length - b.length;
}

function codeUnitRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Orders keys by (namespace, name), the order of list and of continue tokens. */
export function compareKeys(
  a: Pick<ObjectKey, 'namespace' | 'name'>,
  b: Pick<ObjectKey, 'namespace' | 'name'>,
): number {
  return compareBytes(a.namespace, b.namespace) || compareBytes(a.name, b.name);
}

export function matchesLabels(labels: Record<string, string>, requirements: readonly LabelRequirement[]): boolean {
  return requirements.every((req) => {
    const has = Object.hasOwn(labels, req.key);
    switch (req.operator) {
      case 'in':
        return has && req.values.includes(labels[req.key]);
      case 'notin':
        return !has || !req.values.includes(labels[req.key]);
      case 'exists':
        return has;
      case '!':
        return !has;
      default:
        return false;
    }
  });
}
