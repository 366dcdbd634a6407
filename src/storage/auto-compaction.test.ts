import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { startAutoCompaction } from './auto-compaction.ts';

describe('startAutoCompaction', () => {
  it('compacts each period to the revision current one period earlier', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      let current = 10;
      const compactions: number[] = [];
      const stop = startAutoCompaction(
        {
          currentRevision: async () => current,
          compact: async (revision) => {
            compactions.push(revision);
          },
        },
        1000,
      );
      const tick = async () => {
        mock.timers.tick(1000);
        await new Promise((resolve) => setImmediate(resolve));
      };
      await tick();
      assert.deepEqual(compactions, []);
      current = 25;
      await tick();
      assert.deepEqual(compactions, [10]);
      current = 40;
      await tick();
      assert.deepEqual(compactions, [10, 25]);
      stop();
      await tick();
      assert.deepEqual(compactions, [10, 25]);
    } finally {
      mock.timers.reset();
    }
  });

  it('logs a failed compaction and keeps going', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const warnings: string[] = [];
      let calls = 0;
      const stop = startAutoCompaction(
        {
          currentRevision: async () => {
            calls++;
            if (calls === 1) throw new Error('database down');
            return calls;
          },
          compact: async () => {},
        },
        1000,
        { warn: (_fields, message) => warnings.push(message) },
      );
      for (let i = 0; i < 2; i++) {
        mock.timers.tick(1000);
        await new Promise((resolve) => setImmediate(resolve));
      }
      stop();
      assert.deepEqual(warnings, ['storage compaction failed']);
      assert.equal(calls, 2);
    } finally {
      mock.timers.reset();
    }
  });
});
