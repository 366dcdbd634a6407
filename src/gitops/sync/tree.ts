// Reading an artifact without leaving it: every path is resolved to its real path and
// must stay under the artifact root, so neither `../` nor a symlink (a Git repo may hold
// any) can make a Sync read the controller's own files.
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { BuildError } from './errors.ts';

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** A unit of manifests: one YAML file, or a directory kustomize builds. */
export type Source =
  | { type: 'file'; path: string; file: string }
  | { type: 'kustomization'; dir: string; file: string };

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}

/** `path` relative to `root` with '/' separators, as messages name files. */
export function relativeName(root: string, path: string): string {
  return relative(root, path).split(sep).join('/') || '.';
}

/** The real path of `path` (relative to `base`, itself inside `root`), refused unless it
 * exists and stays inside `root`. `name` is how messages call it. */
export async function resolveInside(root: string, base: string, path: string, name: string): Promise<string> {
  const lexical = resolve(base, path);
  if (!isInside(root, lexical))
    throw new BuildError('PathOutsideRoot', `${name}: "${path}" is outside the artifact`, name);
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BuildError('PathNotFound', `${name}: "${path}" does not exist in the artifact`, name);
    }
    throw err;
  }
  if (!isInside(root, real)) {
    throw new BuildError(
      'PathOutsideRoot',
      `${name}: "${path}" leads outside the artifact through a symlink (to ${relativeName(root, real)})`,
      name,
    );
  }
  return real;
}

/** Orders names by UTF-16 code units: the same on every machine, whatever its locale. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function entries(dir: string): Promise<Dirent[]> {
  return (await readdir(dir, { withFileTypes: true })).sort((a, b) => byCodeUnits(a.name, b.name));
}

/** The kustomization file of `dir`, if it has one. */
export async function kustomizationIn(dir: string): Promise<string | undefined> {
  const names = new Set((await entries(dir)).map((e) => e.name));
  return KUSTOMIZATION_FILES.find((f) => names.has(f));
}

/**
 * The sources under `dir` (a real path inside the real path `root`), sorted by file name:
 * *.yaml and *.yml files, recursively, except that a directory with a kustomization file is
 * one source that kustomize builds. Names starting with '.' (.git, .github) are skipped:
 * they hold tooling, not manifests. Symlinks are followed when they stay inside `root`;
 * a file or directory reached twice through them is read once, under the first name.
 */
export async function collectSources(root: string, dir: string): Promise<Source[]> {
  const sources: Source[] = [];
  const visited = new Set<string>();
  const visit = async (real: string, name: string): Promise<void> => {
    if (visited.has(real)) return;
    visited.add(real);
    const kustomization = await kustomizationIn(real);
    if (kustomization) {
      sources.push({
        type: 'kustomization',
        dir: real,
        file: name === '.' ? kustomization : `${name}/${kustomization}`,
      });
      return;
    }
    for (const entry of await entries(real)) {
      if (entry.name.startsWith('.')) continue;
      const childName = name === '.' ? entry.name : `${name}/${entry.name}`;
      const child = entry.isSymbolicLink()
        ? await resolveInside(root, real, entry.name, childName)
        : join(real, entry.name);
      const info = entry.isSymbolicLink() ? await stat(child) : entry;
      if (info.isDirectory()) await visit(child, childName);
      else if (info.isFile() && /\.ya?ml$/.test(entry.name) && !visited.has(child)) {
        visited.add(child);
        sources.push({ type: 'file', path: child, file: childName });
      }
    }
  };
  await visit(dir, relativeName(root, dir));
  return sources.sort((a, b) => byCodeUnits(a.file, b.file));
}

/** Refuses any symlink under `dir` that leads outside `root`: kustomize reads the files a
 * kustomization names itself, so they are checked before it runs. */
export async function assertNoEscapes(root: string, dir: string): Promise<void> {
  const visited = new Set<string>();
  const visit = async (real: string): Promise<void> => {
    if (visited.has(real)) return;
    visited.add(real);
    for (const entry of await entries(real)) {
      if (entry.isDirectory()) await visit(join(real, entry.name));
      else if (entry.isSymbolicLink()) {
        const target = await resolveInside(root, real, entry.name, relativeName(root, join(real, entry.name)));
        if ((await stat(target)).isDirectory()) await visit(target);
      }
    }
  };
  await visit(dir);
}
