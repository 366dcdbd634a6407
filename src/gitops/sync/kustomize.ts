// Building a kustomization with the kustomize CLI, or kubectl's built-in copy of it. Before
// it runs, every resource the kustomization tree names must be a local path inside the
// artifact: kustomize would otherwise read directories above it or fetch remote bases.
// (Files named by patches and generators are kept inside each kustomization's own
// directory by kustomize's default load restrictor; symlinks are checked here.)
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { delimiter, join, sep } from 'node:path';
import { parseDocument } from 'yaml';
import { BuildError } from './errors.ts';
import { yamlSyntaxError } from './parse.ts';
import { assertNoEscapes, kustomizationIn, relativeName, resolveInside } from './tree.ts';

export interface KustomizeCommand {
  command: string;
  /** Arguments before the directory. */
  args: string[];
}

/** Fields of a kustomization that name other kustomizations, directories or files to build. */
const RESOURCE_FIELDS = ['resources', 'bases', 'components', 'generators', 'transformers', 'validators'];

const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** `kustomize build` when kustomize is on `searchPath`, else `kubectl kustomize`, else undefined. */
export async function findKustomize(searchPath = process.env.PATH ?? ''): Promise<KustomizeCommand | undefined> {
  const find = async (name: string) => {
    for (const dir of searchPath.split(delimiter).filter(Boolean)) {
      const candidate = join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        if ((await stat(candidate)).isFile()) return candidate;
      } catch {
        // not in this directory
      }
    }
    return undefined;
  };
  const kustomize = await find('kustomize');
  if (kustomize) return { command: kustomize, args: ['build'] };
  const kubectl = await find('kubectl');
  return kubectl ? { command: kubectl, args: ['kustomize'] } : undefined;
}

/** Checks the kustomization in `dir` (which has one) and everything it names, recursively. */
async function checkKustomization(root: string, dir: string, visited: Set<string>): Promise<void> {
  if (visited.has(dir)) return;
  visited.add(dir);
  await assertNoEscapes(root, dir);
  const path = join(dir, (await kustomizationIn(dir)) as string);
  const file = relativeName(root, path);
  const doc = parseDocument(await readFile(path, 'utf8'), { uniqueKeys: true });
  if (doc.errors[0]) throw yamlSyntaxError(doc.errors[0], file);
  const kustomization: unknown = doc.toJS();
  if (typeof kustomization !== 'object' || kustomization === null) return;
  for (const field of RESOURCE_FIELDS) {
    const list = (kustomization as Record<string, unknown>)[field];
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      // Generators and transformers may be inline configurations rather than paths.
      if (typeof entry !== 'string' || entry.includes('\n')) continue;
      const real = await resolveInside(root, dir, entry, file).catch((err: unknown) => {
        if (err instanceof BuildError && err.code === 'PathNotFound') {
          throw new BuildError(
            'PathNotFound',
            `${file}: ${field} entry "${entry}" does not exist in the artifact (remote resources are not fetched)`,
            file,
          );
        }
        throw err;
      });
      if ((await stat(real)).isDirectory() && (await kustomizationIn(real)))
        await checkKustomization(root, real, visited);
    }
  }
}

/**
 * The YAML stream kustomize builds from `dir` (a real path inside the real path `root`),
 * whose kustomization file is `file` relative to the root. Fails with a BuildError that
 * carries kustomize's stderr, or that says it timed out after `timeoutMs`.
 */
export async function kustomizeBuild(root: string, dir: string, file: string, timeoutMs: number): Promise<string> {
  await checkKustomization(root, dir, new Set());
  const tool = await findKustomize();
  if (!tool) {
    throw new BuildError(
      'KustomizeUnavailable',
      `${file}: building a kustomization needs kustomize or kubectl on PATH, and neither is there`,
      file,
    );
  }
  return new Promise((resolvePromise, reject) => {
    execFile(
      tool.command,
      [...tool.args, dir],
      { timeout: timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolvePromise(stdout);
        const why =
          err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER'
            ? `its output exceeds ${MAX_OUTPUT_BYTES / 1024 / 1024} MiB`
            : err.killed
              ? `timed out after ${timeoutMs / 1000} s`
              : // Paths in kustomize's messages are made relative to the artifact, like ours.
                (stderr.trim() || err.message).split(root + sep).join('');
        reject(
          new BuildError('KustomizeFailed', `${file}: ${[tool.command, ...tool.args].join(' ')} failed: ${why}`, file),
        );
      },
    );
  });
}
