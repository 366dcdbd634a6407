// Fresh PGlite data directories without PGlite's initdb, which takes seconds each time (longer on a loaded
// machine): a copy of one PGlite made once per machine. A test whose subject is a first start on an empty
// directory (initdb under PGlite) opens an empty one instead.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { templateDir } from './template-dir.ts';

const run = promisify(execFile);

function pgliteVersion(): string {
  const main = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = join(dirname(dirname(main)), 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** Makes `dir` (which must not exist) a PGlite data directory as PGlite's first start leaves it: initdb's
 * cluster, nothing of Gatehouse's yet, so opening it runs Gatehouse's schema setup as on an empty one. */
export async function freshPgliteDir(dir: string): Promise<string> {
  const template = await templateDir(`gatehouse-pglite-template-${pgliteVersion()}`, 'PG_VERSION', async (making) => {
    await (await PGlite.create(making)).close();
  });
  await run('cp', ['-a', template, dir]);
  return dir;
}
