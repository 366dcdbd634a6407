// Every `gatehouse` process a test starts takes its command from test/support/cli.ts (GATEHOUSE, gatehouse(),
// startGatehouse()), which runs the compiled dist/ that `npm test` builds: a test that runs the CLI's sources
// through tsx itself pays seconds of compiling per start, and the suite's time is mostly such starts.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../', import.meta.url).pathname;

/** Files that must run the sources: which modules of src/ a command loads is what they observe. */
const SOURCES_BY_DESIGN = ['test/cli-lazy-commands.test.ts'];

/** The CLI's source entry named in code, however the path is spelled. */
const CLI_SOURCE_ENTRY = /cli\/main\.ts['"`]|'cli',\s*'main\.ts'/;

describe('the gatehouse processes tests start', () => {
  it('all come from test/support/cli.ts, which runs the build when it is current', async () => {
    const files = (await readdir(ROOT, { recursive: true }))
      .filter((file) => /^(src|test)\//.test(file) && file.endsWith('.ts'))
      .filter((file) => file !== 'test/support/cli.ts' && !SOURCES_BY_DESIGN.includes(file));
    const offenders: string[] = [];
    for (const file of files) if (CLI_SOURCE_ENTRY.test(await readFile(join(ROOT, file), 'utf8'))) offenders.push(file);
    assert.deepEqual(offenders, []);
  });
});
