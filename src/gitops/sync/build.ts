// From a checked-out artifact to the list of objects a Sync applies: read the YAML under
// `path` (or kustomize's build of it), substitute variables, parse, place each object in
// its namespace, and refuse duplicates — every error naming the file.
import { readFile, realpath, stat } from 'node:fs/promises';
import { BuildError } from './errors.ts';
import { kustomizeBuild } from './kustomize.ts';
import { describeObject, describeSource, identityOf, objectId, type Manifest } from './manifest.ts';
import { assignNamespaces } from './namespaces.ts';
import { parseManifests } from './parse.ts';
import type { ParsedTexts } from './parsed-texts.ts';
import { substitute } from './substitute.ts';
import { collectSources, resolveInside, type Source } from './tree.ts';

export interface BuildOptions {
  /** The Sync's namespace: where namespaced objects that name none go, without a targetNamespace. */
  namespace: string;
  /** Set on every namespaced object, replacing the manifest's namespace. */
  targetNamespace?: string;
  /** Values for `${VAR}` references; when absent the text is not touched at all (Flux's
   * postBuild.substitute, so a `${...}` in a script stays as written). */
  substitute?: Readonly<Record<string, string>>;
  /** Time allowed for each kustomize build. */
  kustomizeTimeoutMs?: number;
  /** What the previous build of the same Sync parsed, reused for the texts it read too; holds this build's after. */
  parsed?: ParsedTexts;
}

const DEFAULT_KUSTOMIZE_TIMEOUT_MS = 60_000;
const KUSTOMIZE_OUTPUT = 'kustomize build output';

/**
 * The manifests under `path` of the artifact at `rootDir`, in file order. `path` must be a
 * directory inside `rootDir`. A directory with a kustomization file is built by kustomize
 * (the objects then name the kustomization file and their index in its output); other
 * directories contribute their *.yaml and *.yml files, recursively.
 */
export async function build(rootDir: string, path: string, options: BuildOptions): Promise<Manifest[]> {
  const root = await realpath(rootDir);
  const dir = await resolveInside(root, root, path, 'spec.path');
  if (!(await stat(dir)).isDirectory()) throw new BuildError('PathNotFound', `spec.path: "${path}" is not a directory`);
  const parsing = options.parsed?.build();
  const parse = parsing?.parse ?? parseManifests;
  const parsed: Manifest[] = [];
  for (const source of await collectSources(root, dir)) parsed.push(...(await read(root, source, options, parse)));
  const manifests = assignNamespaces(parsed, options);
  assertUnique(manifests);
  parsing?.keep();
  return manifests;
}

async function read(
  root: string,
  source: Source,
  options: BuildOptions,
  parse: typeof parseManifests,
): Promise<Manifest[]> {
  const output = source.type === 'kustomization' ? KUSTOMIZE_OUTPUT : undefined;
  let text =
    source.type === 'file'
      ? await readFile(source.path, 'utf8')
      : await kustomizeBuild(root, source.dir, source.file, options.kustomizeTimeoutMs ?? DEFAULT_KUSTOMIZE_TIMEOUT_MS);
  if (options.substitute) text = substitute(text, options.substitute, source.file, output);
  return parse(text, source.file, output);
}

function assertUnique(manifests: readonly Manifest[]): void {
  const seen = new Map<string, Manifest>();
  for (const manifest of manifests) {
    const id = objectId(manifest.object);
    const first = seen.get(id);
    if (first) {
      throw new BuildError(
        'DuplicateObject',
        `${describeObject(identityOf(manifest.object))} is defined twice: in ${describeSource(first)} and in ${describeSource(manifest)}`,
        manifest.file,
      );
    }
    seen.set(id, manifest);
  }
}
