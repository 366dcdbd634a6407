// What the benchmark reports state about their own figures: verdicts on the values as printed,
// the commit and a dirty tree named, and the generated part of docs/benchmarks.md replaced alone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  BLOCK_END,
  BLOCK_START,
  commitLabel,
  replaceGeneratedBlock,
  setupLine,
  underLoad,
  wrapProse,
} from '../bench/lib/report.ts';
import { sourceState } from '../bench/lib/source.ts';
import { verdict, verdictWord } from '../bench/lib/verdict.ts';

describe('benchmark verdicts', () => {
  it('judges a ratio on the value it prints: 1.296 prints 1.30 and meets a bar of 1.3', () => {
    const v = verdict(1.296, { direction: 'atLeast', bar: 1.3, digits: 2 });
    assert.deepEqual(v, { printed: '1.30', barPrinted: '≥ 1.30', met: true });
  });

  it('misses a bar only when the printed value is past it', () => {
    assert.equal(verdict(1.294, { direction: 'atLeast', bar: 1.3, digits: 2 }).printed, '1.29');
    assert.equal(verdict(1.294, { direction: 'atLeast', bar: 1.3, digits: 2 }).met, false);
    // "within 10%": the bar 1/1.1 prints as 0.91, and a ratio printed 0.91 meets it
    assert.equal(verdict(0.906, { direction: 'atLeast', bar: 1 / 1.1, digits: 2 }).met, true);
    assert.equal(verdict(0.904, { direction: 'atLeast', bar: 1 / 1.1, digits: 2 }).met, false);
  });

  it('judges a latency bar the same way', () => {
    assert.deepEqual(verdict(50.04, { direction: 'atMost', bar: 50, digits: 1 }), {
      printed: '50.0',
      barPrinted: '≤ 50.0',
      met: true,
    });
    assert.equal(verdict(50.06, { direction: 'atMost', bar: 50, digits: 1 }).met, false);
  });

  it('says "not measured" rather than a verdict on a missing figure', () => {
    const v = verdict(Number.NaN, { direction: 'atMost', bar: 50, digits: 1 });
    assert.equal(v.met, undefined);
    assert.equal(verdictWord(v.met), 'not measured');
    assert.equal(verdictWord(false), '**missed**');
  });
});

describe('benchmark report lines', () => {
  it('names the commit and flags files that differ from it', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'gatehouse-bench-source-'));
    try {
      const git = (...args: string[]) =>
        execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
      git('init', '-q');
      await mkdir(join(repo, 'src'));
      await writeFile(join(repo, 'src', 'a.ts'), 'export const a = 1;\n');
      git('add', 'src/a.ts');
      git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'a');
      const clean = sourceState(['src'], repo);
      assert.equal(clean.short, git('rev-parse', '--short', 'HEAD'));
      assert.deepEqual(clean.uncommitted, []);
      assert.equal(commitLabel(clean), `commit ${clean.short}`);

      await writeFile(join(repo, 'src', 'a.ts'), 'export const a = 2;\n');
      await writeFile(join(repo, 'notes.txt'), 'outside the measured paths\n');
      const dirty = sourceState(['src'], repo);
      assert.deepEqual(dirty.uncommitted, ['src/a.ts']);
      assert.equal(commitLabel(dirty), `commit ${clean.short}, **dirty tree**: 1 files differ from it (src/a.ts)`);
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });

  it('writes the command, date, commit and load of a run, and marks a busy machine', () => {
    const run = {
      command: 'npm run bench:gateway -- --rounds 3',
      startedAt: '2026-12-03T23:10:42.000Z',
      seconds: 252,
      source: { commit: 'abc1234def', short: 'abc1234', uncommitted: [] },
      loadAtStart: [8.2, 6.1, 4],
      loadPeak: 11.5,
      nproc: 2,
    };
    assert.equal(
      setupLine(run),
      '`npm run bench:gateway -- --rounds 3` — 2026-12-03 23:10 UTC, commit abc1234; load average 8.2 / 6.1 / 4 at ' +
        'the start on 2 cores, up to 11.5; took 4 min 12 s. **Taken under load** (other work was running): ' +
        'pessimistic figures, to be taken again on a quiet machine.',
    );
    assert.equal(underLoad([0.4, 1, 1], 2), false);
    assert.match(
      setupLine({ ...run, loadAtStart: [0.4, 1, 1], failure: 'ended with exit code 1' }),
      /took 4 min 12 s\. \*\*Did not complete\*\*: ended with exit code 1\.$/,
    );
  });

  it('wraps long prose between words, never inside a code span, and leaves table rows whole', () => {
    const row = `| ${'x'.repeat(150)} |`;
    const prose = `\`npm run bench:gitops -- --phases push --pushes 20\` — ${'word '.repeat(30).trim()}`;
    const wrapped = wrapProse(`${prose}\n${row}`, 60).split('\n');
    assert.equal(wrapped.at(-1), row);
    assert.equal(wrapped[0], '`npm run bench:gitops -- --phases push --pushes 20` — word');
    for (const line of wrapped.slice(0, -1)) assert.ok(line.length <= 60, line);
    assert.equal(wrapped.slice(0, -1).join(' '), prose);
  });

  it('replaces the generated part of the page and nothing else', () => {
    const page = `# Benchmarks\n\nintro\n\n${BLOCK_START}\n\nold figures\n\n${BLOCK_END}\n\n## History\n\nkept\n`;
    assert.equal(
      replaceGeneratedBlock(page, 'new figures\n'),
      `# Benchmarks\n\nintro\n\n${BLOCK_START}\n\nnew figures\n\n${BLOCK_END}\n\n## History\n\nkept\n`,
    );
    assert.throws(() => replaceGeneratedBlock('# no block\n', 'x'), /no generated block/);
  });
});
