import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runStorageConformance } from '../conformance.ts';
import { MemoryStorage } from './memory-storage.ts';
import { compareBytes } from './selection.ts';

runStorageConformance('memory', async () => new MemoryStorage());

describe('compareBytes', () => {
  it('orders like the UTF-8 bytes of the strings', () => {
    const words = ['a', 'B', '\uFFFD', '\u{1F600}', '\uE000', 'ab', '', '\u00E9', 'Z~'];
    const byBytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual([...words].sort(compareBytes), byBytes);
  });
});
