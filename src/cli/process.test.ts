import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from './process.ts';

function capture(isTTY: boolean): { out: PassThrough & { isTTY?: boolean }; text: () => string } {
  const out: PassThrough & { isTTY?: boolean } = new PassThrough();
  out.isTTY = isTTY;
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString() };
}

test('logs readable lines on a terminal and JSON lines elsewhere', () => {
  const tty = capture(true);
  createLogger(tty.out).info({ url: 'https://127.0.0.1:6443' }, 'API server listening');
  assert.match(tty.text(), /INFO.*API server listening\n\s+url: "https:\/\/127\.0\.0\.1:6443"/);
  assert.throws(() => JSON.parse(tty.text().split('\n')[0]));

  const pipe = capture(false);
  createLogger(pipe.out).info({ url: 'https://127.0.0.1:6443' }, 'API server listening');
  const line = JSON.parse(pipe.text().trim()) as Record<string, unknown>;
  assert.deepEqual([line.msg, line.url, line.level], ['API server listening', 'https://127.0.0.1:6443', 30]);
});

test('GATEHOUSE_LOG_LEVEL sets the level and an unknown one is named', () => {
  const pipe = capture(false);
  const log = createLogger(pipe.out, 'warn');
  log.info('hidden');
  log.warn('shown');
  assert.deepEqual(
    pipe
      .text()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { msg: string }).msg),
    ['shown'],
  );
  assert.throws(() => createLogger(pipe.out, 'loud'), /GATEHOUSE_LOG_LEVEL=loud: expected one of .*debug/);
});
