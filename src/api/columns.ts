// Printer columns shared by several kinds. A 'date' cell returns the timestamp; the
// server turns it into an age.
import type { KubeObject, PrinterColumn } from './kind.ts';
import { findCondition, type CommonStatus } from './status.ts';

function readyCondition(obj: KubeObject) {
  return findCondition(obj.status as CommonStatus | undefined, 'Ready');
}

export function ageColumn(): PrinterColumn {
  return {
    name: 'Age',
    type: 'date',
    description: 'Time since the object was created.',
    priority: 0,
    cell: (obj) => obj.metadata.creationTimestamp ?? null,
  };
}

export function readyColumn(): PrinterColumn {
  return {
    name: 'Ready',
    type: 'string',
    description: 'Status of the Ready condition.',
    priority: 0,
    cell: (obj) => readyCondition(obj)?.status ?? '',
  };
}

export function statusMessageColumn(): PrinterColumn {
  return {
    name: 'Status',
    type: 'string',
    description: 'Message of the Ready condition, on one line.',
    priority: 0,
    // A table row is one line: the lines of a message (a validation failure lists one per
    // object) are joined; the condition keeps them for describe and -o yaml.
    cell: (obj) => (readyCondition(obj)?.message ?? '').trim().replace(/\s*\n\s*/g, ' '),
  };
}

/** A column computed by `cell`; defaults to a string column shown without -o wide. */
export function column(
  name: string,
  description: string,
  cell: PrinterColumn['cell'],
  options: { type?: PrinterColumn['type']; wide?: boolean } = {},
): PrinterColumn {
  return { name, type: options.type ?? 'string', description, priority: options.wide ? 1 : 0, cell };
}
