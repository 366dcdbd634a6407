// A log of JSON lines (the API server's audit events, the gateway's access log) appended to a
// file rotated by size, or stdout (`-`), as kube-apiserver's --audit-log-path,
// --audit-log-maxsize and --audit-log-maxbackup do (rotated files are named as its log rotation
// names them: audit-2026-12-03T15-04-05.000.log).
//
// A request never waits for the disk: write() queues the line and returns, one drain loop
// appends what is queued in batches. The queue is bounded; when it is full (the disk is slower
// than the requests) or a write fails (the disk is full, the file was made unwritable), events
// are dropped and counted, the problem is reported once, and once a batch is written again the
// number dropped is reported — requests go on being served either way, as with kube-apiserver's
// batch audit mode.
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

export const MEBIBYTE = 1024 * 1024;
/** kube's log rotation rotates at 100 MB when --audit-log-maxsize is 0 or unset. */
export const DEFAULT_MAX_BYTES = 100 * MEBIBYTE;
/** What may wait for the disk before events are dropped. */
export const DEFAULT_BUFFER_BYTES = 16 * MEBIBYTE;

export interface LogFileOptions {
  /** What the log is, in problem reports: "audit log". */
  name: string;
  /** A file, or `-` for stdout. */
  path: string;
  /** Size at which the file is rotated. */
  maxBytes?: number;
  /** Rotated files kept, the newest; 0 keeps them all (kube's default). */
  maxBackups?: number;
  bufferBytes?: number;
  /** Told when events start being dropped (with the cause) and, with the count, when writing resumes. */
  onProblem?(message: string, err?: unknown): void;
}

export class LogFileWriter {
  private queue: string[] = [];
  private queuedBytes = 0;
  private draining: Promise<void> | undefined;
  private file: FileHandle | undefined;
  private size = 0;
  private droppedSinceReport = 0;
  private totalDropped = 0;
  private readonly maxBytes: number;
  private readonly bufferBytes: number;

  constructor(private readonly options: LogFileOptions) {
    this.maxBytes = options.maxBytes || DEFAULT_MAX_BYTES;
    this.bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES;
  }

  /** Events dropped since the writer started. */
  get dropped(): number {
    return this.totalDropped;
  }

  /** Queues one line (a newline is added); never waits. */
  write(line: string): void {
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    if (this.queuedBytes + bytes > this.bufferBytes) {
      this.drop(1, `the buffer of ${this.bufferBytes} bytes is full (the log is written slower than requests arrive)`);
      return;
    }
    this.queue.push(text);
    this.queuedBytes += bytes;
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Resolves once everything queued so far is written (or dropped). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.file?.close();
    this.file = undefined;
  }

  private drop(count: number, cause: string, err?: unknown): void {
    if (this.droppedSinceReport === 0) {
      const message = `${this.options.name} ${this.options.path}: ${cause}; events are dropped until it is written again`;
      this.options.onProblem?.(message, err);
    }
    this.droppedSinceReport += count;
    this.totalDropped += count;
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      this.queuedBytes = 0;
      try {
        await this.append(batch);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        this.drop(batch.length, `cannot be written${code ? ` (${code})` : ''}`, err);
        await this.file?.close().catch(() => undefined);
        this.file = undefined;
        continue;
      }
      if (this.droppedSinceReport) {
        const dropped = this.droppedSinceReport;
        this.options.onProblem?.(
          `${this.options.name} ${this.options.path}: written again; ${dropped} events were dropped`,
        );
        this.droppedSinceReport = 0;
      }
    }
  }

  /** Appends the lines, rotating first whenever the next lines would take the file past maxBytes. */
  private async append(lines: string[]): Promise<void> {
    if (this.options.path === '-') {
      const text = lines.join('');
      await new Promise<void>((resolve, reject) => {
        process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
      });
      return;
    }
    let chunk = '';
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      const file = await this.open();
      if (this.size + chunkBytes + bytes > this.maxBytes && this.size + chunkBytes > 0) {
        if (chunk) await this.writeChunk(file, chunk, chunkBytes);
        chunk = '';
        chunkBytes = 0;
        await this.rotate();
      }
      chunk += line;
      chunkBytes += bytes;
    }
    if (chunk) await this.writeChunk(await this.open(), chunk, chunkBytes);
  }

  private async writeChunk(file: FileHandle, chunk: string, bytes: number): Promise<void> {
    await file.write(chunk);
    this.size += bytes;
  }

  private async open(): Promise<FileHandle> {
    if (this.file) return this.file;
    await mkdir(dirname(this.options.path), { recursive: true, mode: 0o700 });
    // Owner-only: an audit log names users, objects and, at Request level and above, what they
    // sent; an access log names clients and the paths they asked for.
    const file = await open(this.options.path, 'a', 0o600);
    this.size = (await file.stat()).size;
    this.file = file;
    return file;
  }

  private async rotate(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
    const { path } = this.options;
    let time = Date.now();
    while (await exists(backupName(path, time))) time++;
    await rename(path, backupName(path, time));
    this.size = 0;
    const keep = this.options.maxBackups ?? 0;
    if (keep > 0) {
      const backups = await backupFiles(path);
      await Promise.all(backups.slice(0, Math.max(0, backups.length - keep)).map((b) => rm(b, { force: true })));
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** `audit.log` rotated at `time` is `audit-2026-12-03T15-04-05.000.log` beside it (UTC). */
function backupName(path: string, time: number): string {
  const ext = extname(path);
  const stamp = new Date(time).toISOString().replace('Z', '').replace(/:/g, '-');
  return join(dirname(path), `${basename(path, ext)}-${stamp}${ext}`);
}

/** Rotated files of the log at `path`, oldest first. */
export async function backupFiles(path: string): Promise<string[]> {
  const ext = extname(path);
  const stem = basename(path, ext);
  const stamp = '\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{3}';
  const pattern = new RegExp(`^${escapeRegExp(stem)}-${stamp}${escapeRegExp(ext)}$`);
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  return names
    .filter((n) => pattern.test(n))
    .sort()
    .map((n) => join(dirname(path), n));
}

/** The log's files in the order their events were written: rotated ones, then the current one. */
export async function logFiles(path: string): Promise<string[]> {
  return [...(await backupFiles(path)), ...((await exists(path)) ? [path] : [])];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
