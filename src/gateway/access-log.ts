// The access log: one JSON line per request, which requests get one (`off`, `all`, or
// `sampled:RATE`: every request answered 5xx, and that fraction of the others, chosen at random),
// and where the lines go: the process log (stdout), or a file rotated by size (log/log-file.ts),
// written off the request path. docs/operations.md says why `gatehouse gateway` samples by default.
import type { Logger } from 'pino';
import { LogFileWriter, type LogFileOptions } from '../log/log-file.ts';

export type AccessLogMode = { mode: 'off' } | { mode: 'all' } | { mode: 'sampled'; rate: number };

/** The fraction of successful requests `sampled` logs when no RATE is given. */
export const DEFAULT_SAMPLE_RATE = 0.01;

/** Parses `off`, `all`, `sampled` or `sampled:RATE` (0 < RATE ≤ 1); throws naming the value. */
export function parseAccessLogMode(value: string): AccessLogMode {
  if (value === 'off' || value === 'all') return { mode: value };
  const match = /^sampled(?::(.+))?$/.exec(value);
  const rate = match?.[1] === undefined ? DEFAULT_SAMPLE_RATE : Number(match[1]);
  if (!match || !(rate > 0 && rate <= 1))
    throw new Error(`access log "${value}": expected off, all, sampled or sampled:RATE with 0 < RATE <= 1`);
  return { mode: 'sampled', rate };
}

export interface AccessLogOptions {
  /** Which requests are logged; all by default. */
  mode?: AccessLogMode;
  /** A file of JSON lines rotated by size instead of the process log. */
  file?: Omit<LogFileOptions, 'name' | 'onProblem'>;
  /** Draws the sample (default Math.random). */
  random?: () => number;
}

export interface AccessLog {
  /** Whether a request answered `status` gets a line. */
  keeps(status: number): boolean;
  /** Writes one line: `fields` and `msg`. */
  write(fields: Record<string, unknown>, msg: string): void;
  close(): Promise<void>;
}

/** The access log of a gateway whose other lines go to `logger` (as do the file's problems). */
export function openAccessLog(logger: Logger, options: AccessLogOptions = {}): AccessLog {
  const keeps = keeper(options.mode ?? { mode: 'all' }, options.random ?? Math.random);
  if (!options.file) return { keeps, write: (fields, msg) => logger.info(fields, msg), close: async () => undefined };
  const writer = new LogFileWriter({
    ...options.file,
    name: 'access log',
    onProblem: (message, err) => logger.warn({ err }, message),
  });
  return {
    keeps,
    // The process log's line shape (pino's level, time and pid), so one reader reads both.
    write: (fields, msg) =>
      writer.write(JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, ...fields, msg })),
    close: () => writer.close(),
  };
}

function keeper(mode: AccessLogMode, random: () => number): (status: number) => boolean {
  switch (mode.mode) {
    case 'off':
      return () => false;
    case 'all':
      return () => true;
    case 'sampled':
      return (status) => status >= 500 || random() < mode.rate;
  }
}
