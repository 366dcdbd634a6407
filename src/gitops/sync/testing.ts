// Test support: artifacts on disk, as a checked-out source would leave them.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Writes `files` (path relative to `root` → content) under `root`, creating directories. */
export async function writeArtifact(root: string, files: Readonly<Record<string, string>>): Promise<string> {
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}
