// Server-side printing: Table and PartialObjectMetadata representations, as kubectl asks
// for them. Date columns are rendered as a human age, like CRD printer columns.
import type { KindDefinition, KubeObject } from '../../api/kind.ts';

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

export function columnsOf(def: KindDefinition): TableColumn[] {
  return [
    {
      name: 'Name',
      type: 'string',
      format: 'name',
      description: 'Name must be unique within a namespace.',
      priority: 0,
    },
    ...def.printerColumns.map((c) => ({
      name: c.name,
      type: c.type,
      format: '',
      description: c.description,
      priority: c.priority,
    })),
  ];
}

export function partialMetadata(obj: KubeObject, metaVersion: string): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${metaVersion}`, metadata: obj.metadata };
}

export function rowOf(
  def: KindDefinition,
  obj: KubeObject,
  include: IncludeObject,
  metaVersion: string,
  nowMs: number,
): TableRow {
  const cells: unknown[] = [obj.metadata.name ?? ''];
  for (const column of def.printerColumns) {
    let value: unknown;
    try {
      value = column.cell(obj);
    } catch {
      value = null;
    }
    if (column.type === 'date')
      value = typeof value === 'string' && value ? humanDuration(nowMs - Date.parse(value)) : '<unknown>';
    cells.push(value ?? (column.type === 'string' ? '' : null));
  }
  const row: TableRow = { cells };
  if (include === 'Object') row.object = obj;
  else if (include === 'Metadata') row.object = partialMetadata(obj, metaVersion);
  return row;
}

export function table(
  def: KindDefinition,
  objects: KubeObject[],
  listMeta: Record<string, unknown>,
  include: IncludeObject,
  metaVersion: string,
  withColumns = true,
): Record<string, unknown> {
  const nowMs = Date.now();
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${metaVersion}`,
    metadata: listMeta,
    columnDefinitions: withColumns ? columnsOf(def) : null,
    rows: objects.map((o) => rowOf(def, o, include, metaVersion, nowMs)),
  };
}
