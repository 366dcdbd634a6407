import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { backupFiles, LogFileWriter, logFiles } from './log-file.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function logPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-'));
  dirs.push(dir);
  return join(dir, 'logs', 'audit.log');
}

const line = (i: number) => JSON.stringify({ n: i, pad: 'x'.repeat(80) });

async function linesOf(path: string): Promise<number[]> {
  const files = await logFiles(path);
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  return texts
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { n: number }).n);
}

describe('log file writer', () => {
  it('rotates before a file passes maxBytes, keeps maxBackups rotated files and loses no line', async () => {
    const path = await logPath();
    const writer = new LogFileWriter({ name: 'audit log', path, maxBytes: 1000, maxBackups: 3 });
    for (let i = 0; i < 20; i++) writer.write(line(i));
    await writer.flush();
    for (let i = 20; i < 40; i++) writer.write(line(i));
    await writer.close();
    const backups = await backupFiles(path);
    assert.equal(backups.length, 3, 'the oldest rotated files are removed');
    for (const file of [...backups, path]) {
      assert.ok((await stat(file)).size <= 1000, `${basename(file)} is at most maxBytes`);
      assert.match(basename(file), /^audit(-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3})?\.log$/);
    }
    const kept = await linesOf(path);
    const newest = Array.from({ length: kept.length }, (_, i) => 40 - kept.length + i);
    assert.deepEqual(kept, newest, 'the newest lines, in order');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it('keeps every rotated file when maxBackups is 0', async () => {
    const path = await logPath();
    const writer = new LogFileWriter({ name: 'audit log', path, maxBytes: 500 });
    for (let i = 0; i < 30; i++) writer.write(line(i));
    await writer.close();
    assert.deepEqual(
      await linesOf(path),
      Array.from({ length: 30 }, (_, i) => i),
    );
  });

  it('drops lines past its buffer instead of waiting, and says how many once it writes again', async () => {
    const path = await logPath();
    const problems: string[] = [];
    const writer = new LogFileWriter({
      name: 'audit log',
      path,
      bufferBytes: 1000,
      onProblem: (m) => problems.push(m),
    });
    for (let i = 0; i < 50; i++) writer.write(line(i));
    assert.ok(writer.dropped > 0);
    await writer.flush();
    writer.write(line(50));
    await writer.close();
    const written = await linesOf(path);
    assert.equal(written.length + writer.dropped, 51);
    assert.match(problems[0], /buffer of 1000 bytes is full/);
    assert.equal(problems[1], `audit log ${path}: written again; ${writer.dropped} events were dropped`);
    assert.equal(problems.length, 2, 'one report when dropping starts, one when it ends');
  });

  it('drops and reports what the disk refuses (ENOSPC), and writes again when it can', async () => {
    const full = new LogFileWriter({ name: 'audit log', path: '/dev/full', onProblem: (m) => problems.push(m) });
    const problems: string[] = [];
    full.write(line(0));
    full.write(line(1));
    await full.close();
    assert.equal(full.dropped, 2);
    const once = 'audit log /dev/full: cannot be written (ENOSPC); events are dropped until it is written again';
    assert.deepEqual(problems, [once]);

    const path = await logPath();
    await mkdir(path, { recursive: true });
    const reports: string[] = [];
    const writer = new LogFileWriter({ name: 'audit log', path, onProblem: (m) => reports.push(m) });
    writer.write(line(0));
    await writer.flush();
    await rm(path, { recursive: true });
    writer.write(line(1));
    await writer.close();
    assert.deepEqual(await linesOf(path), [1]);
    assert.match(reports[0], /cannot be written \(EISDIR\)/);
    assert.match(reports[1], /written again; 1 events were dropped/);
  });
});
