// Verdicts of benchmark reports. A verdict is taken on the figure as printed, against the bar
// as printed: a ratio of 1.296 printed as 1.30 beside a bar of 1.30 is met, never "missed"
// beside a value that reads as the bar. Both are rounded to the decimals the table shows.
import { fixed } from './table.ts';

export interface Bar {
  /** 'atLeast': the figure must reach the bar (ratios); 'atMost': stay under it (latency, memory). */
  readonly direction: 'atLeast' | 'atMost';
  readonly bar: number;
  /** Decimals the figure and the bar are printed with. */
  readonly digits: number;
}

export interface Verdict {
  /** The figure as printed. */
  readonly printed: string;
  /** The bar as printed, with its sign: "≥ 1.30", "≤ 50". */
  readonly barPrinted: string;
  /** Undefined when the figure is not a number (not measured). */
  readonly met: boolean | undefined;
}

export function verdict(value: number, { direction, bar, digits }: Bar): Verdict {
  const printed = fixed(value, digits);
  const barPrinted = `${direction === 'atLeast' ? '≥' : '≤'} ${fixed(bar, digits)}`;
  if (!Number.isFinite(value)) return { printed, barPrinted, met: undefined };
  const [v, b] = [Number(printed), Number(fixed(bar, digits))];
  return { printed, barPrinted, met: direction === 'atLeast' ? v >= b : v <= b };
}

/** The verdict column of a table: "met", "**missed**", or "not measured". */
export function verdictWord(met: boolean | undefined): string {
  return met === undefined ? 'not measured' : met ? 'met' : '**missed**';
}
