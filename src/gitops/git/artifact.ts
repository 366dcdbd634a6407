// Artifacts: the files of one commit's tree, in `<workDir>/artifacts/<sha>/`.
//
// - Exactly the committed bytes: files come from `git cat-file`, so no .gitattributes
//   filter, eol conversion or export-ignore changes them.
// - Regular files only: symbolic links (which could point outside the artifact) and
//   submodules are left out, as Flux leaves them out of its tarballs.
// - Atomic: written into `artifacts/.tmp-*` and renamed into place, so a directory named
//   after a commit is always complete, and the previous one stays until then.
// - Digest: see `digestDirectory`.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { GitError } from './errors.ts';
import type { GitSession } from './session.ts';

const TEMP_PREFIX = '.tmp-';

export function artifactsDir(workDir: string): string {
  return join(workDir, 'artifacts');
}

export function artifactPath(workDir: string, commit: string): string {
  return join(artifactsDir(workDir), commit);
}

export async function hasArtifact(workDir: string, commit: string): Promise<boolean> {
  return stat(artifactPath(workDir, commit)).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

interface TreeFile {
  path: string;
  blob: string;
  executable: boolean;
}

/** The regular files of `commit`'s tree, sorted by path bytes. Throws when a path could
 * escape the artifact directory or names a .git directory. */
async function treeFiles(session: GitSession, gitDir: string, commit: string): Promise<TreeFile[]> {
  const out = await session.git(['ls-tree', '-r', '-z', '--full-tree', commit], { cwd: gitDir });
  const files: TreeFile[] = [];
  for (const entry of out.split('\0')) {
    if (!entry) continue;
    // "<mode> SP <type> SP <object> TAB <path>"
    const tab = entry.indexOf('\t');
    const [mode, , blob] = entry.slice(0, tab).split(' ');
    const path = entry.slice(tab + 1);
    if (mode !== '100644' && mode !== '100755') continue;
    if (path.split('/').some((part) => part === '' || part === '.' || part === '..' || part.toLowerCase() === '.git')) {
      throw new GitError('GIT_FAILED', `commit ${commit} has a file at an unsafe path "${path}"`);
    }
    files.push({ path, blob, executable: mode === '100755' });
  }
  return files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** Writes the tree of `commit` (whose objects are in `gitDir`) to its artifact directory. */
export async function writeArtifact(
  session: GitSession,
  gitDir: string,
  commit: string,
  workDir: string,
): Promise<void> {
  await mkdir(artifactsDir(workDir), { recursive: true });
  const files = await treeFiles(session, gitDir, commit);
  const temp = await mkdtemp(join(artifactsDir(workDir), TEMP_PREFIX));
  try {
    await session.git(['cat-file', '--batch'], {
      cwd: gitDir,
      input: files.map((f) => `${f.blob}\n`).join(''),
      consume: (stdout) => writeBlobs(stdout, files, temp),
    });
    await rename(temp, artifactPath(workDir, commit));
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}

/** Reads `git cat-file --batch` output ("<sha> blob <size>\n<content>\n" per object, in
 * the order asked) and writes each object to its file. */
async function writeBlobs(stdout: Readable, files: TreeFile[], dir: string): Promise<void> {
  const reader = new ChunkReader(stdout);
  const made = new Set<string>();
  for (const file of files) {
    const header = await reader.line();
    const size = /^[0-9a-f]+ blob (\d+)$/.exec(header ?? '')?.[1];
    if (size === undefined)
      throw new GitError('GIT_FAILED', `git cat-file: unexpected answer "${header ?? ''}" for ${file.path}`);
    const content = await reader.take(Number(size) + 1);
    const target = join(dir, file.path);
    const parent = dirname(target);
    if (!made.has(parent)) {
      await mkdir(parent, { recursive: true });
      made.add(parent);
    }
    await writeFile(target, content.subarray(0, -1), { mode: file.executable ? 0o755 : 0o644 });
  }
}

/** Pulls lines and byte counts from a stream, buffering only what it must. */
class ChunkReader {
  readonly #chunks: AsyncIterator<Buffer>;
  #buffered: Buffer[] = [];
  #length = 0;

  constructor(stream: Readable) {
    this.#chunks = stream[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    const { value, done } = await this.#chunks.next();
    if (done) return false;
    this.#buffered.push(value as Buffer);
    this.#length += (value as Buffer).length;
    return true;
  }

  /** The next line without its newline, or undefined at the end of the stream. */
  async line(): Promise<string | undefined> {
    for (let scanned = 0; ; ) {
      const all = this.#buffered.length === 1 ? this.#buffered[0] : Buffer.concat(this.#buffered);
      this.#buffered = all.length ? [all] : [];
      const nl = all.indexOf(10, scanned);
      if (nl >= 0)
        return this.#consume(nl + 1)
          .subarray(0, nl)
          .toString('utf8');
      scanned = all.length;
      if (!(await this.#fill())) return undefined;
    }
  }

  /** Exactly `n` bytes; throws when the stream ends first. */
  async take(n: number): Promise<Buffer> {
    while (this.#length < n) {
      if (!(await this.#fill())) throw new GitError('GIT_FAILED', 'git cat-file: output ended early');
    }
    return this.#consume(n);
  }

  #consume(n: number): Buffer {
    const all = this.#buffered.length === 1 ? this.#buffered[0] : Buffer.concat(this.#buffered);
    this.#buffered = all.length > n ? [all.subarray(n)] : [];
    this.#length = all.length - n;
    return all.subarray(0, n);
  }
}

/** `sha256:<hex>` over the regular files under `dir`, in byte order of their paths
 * (relative, "/"-separated): for each, the path, NUL, "100755" or "100644" (executable by
 * its owner or not), NUL, the size in decimal, NUL, then the content. The same tree gives
 * the same digest wherever and whenever it is written. */
export async function digestDirectory(dir: string): Promise<string> {
  const paths: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) paths.push(path);
    }
  };
  await walk('');
  paths.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const hash = createHash('sha256');
  for (const path of paths) {
    const file = join(dir, path);
    const [content, info] = await Promise.all([readFile(file), stat(file)]);
    hash.update(`${path}\0${info.mode & 0o100 ? '100755' : '100644'}\0${content.length}\0`);
    hash.update(content);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Marks the artifact of `commit` the newest (its mtime orders artifacts for collection). */
export async function markNewest(workDir: string, commit: string): Promise<void> {
  const now = new Date();
  await utimes(artifactPath(workDir, commit), now, now);
}

/** Removes every artifact but `current` and the newest other one (the previous revision,
 * which a Sync may still be reading), and temporary directories a crash left behind. */
export async function collectGarbage(workDir: string, current: string): Promise<void> {
  const dir = artifactsDir(workDir);
  const others: { name: string; mtime: number }[] = [];
  for (const name of await readdir(dir)) {
    if (name === current) continue;
    if (name.startsWith(TEMP_PREFIX)) {
      await rm(join(dir, name), { recursive: true, force: true });
      continue;
    }
    others.push({ name, mtime: (await stat(join(dir, name))).mtimeMs });
  }
  others.sort((a, b) => b.mtime - a.mtime);
  for (const { name } of others.slice(1)) await rm(join(dir, name), { recursive: true, force: true });
}
