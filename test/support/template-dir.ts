// Directories that take seconds to make and are the same every time (a database cluster fresh from
// initdb), made once per machine and kept in the temp dir for every test process to copy.
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The path of `tmpdir()/name`, made by `make` (into an empty directory) when it is not there yet; `complete` is a
 * file only a finished one holds. The first process to need it makes it under a temporary name and renames it into
 * place, so no one copies a half-made one; a process that lost that race uses the winner's. */
export async function templateDir(
  name: string,
  complete: string,
  make: (target: string) => Promise<void>,
): Promise<string> {
  const template = join(tmpdir(), name);
  if (existsSync(join(template, complete))) return template;
  const making = await mkdtemp(`${template}.making-`);
  try {
    await make(making);
    await rename(making, template);
  } catch (err) {
    if (!existsSync(join(template, complete))) throw err;
  } finally {
    await rm(making, { recursive: true, force: true });
  }
  return template;
}
