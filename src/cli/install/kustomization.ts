// Reads a kustomization as `gatehouse install` needs it, without kustomize (a Pod or a plain machine has no
// kubectl): the subset deploy/ uses, `resources` (files and directories with a kustomization) and `patches` by
// `path`, applied as JSON merge patches (RFC 7386: maps merge, lists are replaced, null deletes), which is what
// kustomize's strategic merge does for the map-only patches deploy/ has. Any other field is refused by name
// rather than ignored, so a rendering never silently differs from `kubectl kustomize`.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../../api/kind.ts';
import { mergePatch } from '../../apiserver/registry/patch.ts';
import { CommandFailure } from '../failure.ts';

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'patches']);

interface Kustomization {
  resources?: string[];
  patches?: { path?: string }[];
}

async function readYaml(file: string): Promise<unknown[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8'));
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new CommandFailure(`${file}: ${doc.errors[0].message}`, 1);
  }
  return docs.map((doc) => doc.toJSON() as unknown).filter((obj) => obj !== null);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function asKubeObject(file: string, value: unknown): KubeObject {
  const obj = value as Partial<KubeObject>;
  if (!isObject(value) || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || !obj.metadata?.name) {
    throw new CommandFailure(`${file}: every document needs apiVersion, kind and metadata.name`, 1);
  }
  return obj as KubeObject;
}

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
const sameObject = (a: KubeObject, b: KubeObject) =>
  groupOf(a.apiVersion) === groupOf(b.apiVersion) &&
  a.kind === b.kind &&
  a.metadata.name === b.metadata.name &&
  (b.metadata.namespace === undefined || a.metadata.namespace === b.metadata.namespace);

/** The objects the kustomization in `dir` renders to, in the order its resources list them. */
export async function renderKustomization(dir: string): Promise<KubeObject[]> {
  const file = join(dir, 'kustomization.yaml');
  const [doc] = await readYaml(file);
  if (!isObject(doc)) throw new CommandFailure(`${file}: not a kustomization`, 1);
  const unknown = Object.keys(doc).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) {
    throw new CommandFailure(`${file}: ${unknown.join(', ')}: not supported by gatehouse install`, 1);
  }
  const kustomization = doc as Kustomization;
  let objects: KubeObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = join(dir, resource);
    if ((await stat(path)).isDirectory()) objects.push(...(await renderKustomization(path)));
    else objects.push(...(await readYaml(path)).map((obj) => asKubeObject(path, obj)));
  }
  for (const [i, entry] of (kustomization.patches ?? []).entries()) {
    if (!entry.path) throw new CommandFailure(`${file}: patches[${i}]: only patches with a path are supported`, 1);
    const path = join(dir, entry.path);
    for (const patch of (await readYaml(path)).map((obj) => asKubeObject(path, obj))) {
      if (!objects.some((obj) => sameObject(obj, patch))) {
        throw new CommandFailure(`${path}: ${patch.kind} ${patch.metadata.name} matches no resource`, 1);
      }
      objects = objects.map((obj) => (sameObject(obj, patch) ? (mergePatch(obj, patch) as KubeObject) : obj));
    }
  }
  return objects;
}

/** `objects` as one multi-document YAML stream, as `kubectl kustomize` prints them (no anchors or aliases). */
export function yamlDocuments(objects: KubeObject[]): string {
  return objects.map((obj) => `---\n${stringify(obj, { aliasDuplicateObjects: false })}`).join('');
}
