import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAccessLogMode } from './access-log.ts';

describe('parseAccessLogMode', () => {
  it('reads off, all, sampled and sampled:RATE', () => {
    assert.deepEqual(parseAccessLogMode('off'), { mode: 'off' });
    assert.deepEqual(parseAccessLogMode('all'), { mode: 'all' });
    assert.deepEqual(parseAccessLogMode('sampled'), { mode: 'sampled', rate: 0.01 });
    assert.deepEqual(parseAccessLogMode('sampled:0.25'), { mode: 'sampled', rate: 0.25 });
    assert.deepEqual(parseAccessLogMode('sampled:1'), { mode: 'sampled', rate: 1 });
  });

  it('refuses anything else, naming the value', () => {
    for (const value of ['', 'some', 'sampled:0', 'sampled:1.5', 'sampled:x', 'sampled:', 'all:1'])
      assert.throws(() => parseAccessLogMode(value), {
        message: `access log "${value}": expected off, all, sampled or sampled:RATE with 0 < RATE <= 1`,
      });
  });
});
