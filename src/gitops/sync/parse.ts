// YAML text to manifests: every document of a multi-document stream, empty ones skipped
// (their positions still count, so indexes match what an editor shows), a `kind: List`
// expanded into its items. Parsed as the API server parses YAML bodies (YAML 1.2,
// duplicate keys refused).
import { parseAllDocuments, type YAMLError } from 'yaml';
import type { KubeObject } from '../../api/kind.ts';
import { BuildError } from './errors.ts';
import { describeSource, type Manifest } from './manifest.ts';

/** The objects of `text`, read from `file`. `output` names what the text is when it is not
 * the file itself (a kustomize build), for line numbers in messages. */
export function parseManifests(text: string, file: string, output?: string): Manifest[] {
  const manifests: Manifest[] = [];
  parseAllDocuments(text, { uniqueKeys: true }).forEach((doc, index) => {
    if (doc.errors[0]) throw yamlSyntaxError(doc.errors[0], file, output);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    const where = describeSource({ file, index });
    if (isList(value)) {
      if (!Array.isArray(value.items))
        throw new BuildError('InvalidManifest', `${where}: a List needs an items array`, file);
      for (const [i, item] of value.items.entries()) {
        manifests.push({ object: checkObject(item, `${where}, List item ${i + 1}`, file), file, index });
      }
    } else {
      manifests.push({ object: checkObject(value, where, file), file, index });
    }
  });
  return manifests;
}

/** `kind: List` (apiVersion v1), what `kubectl get -o yaml` prints for several objects. */
function isList(value: unknown): value is { items: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as KubeObject).kind === 'List' &&
    (value as KubeObject).apiVersion === 'v1'
  );
}

function checkObject(value: unknown, where: string, file: string): KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BuildError(
      'InvalidManifest',
      `${where}: a manifest must be a YAML mapping (an object), not ${Array.isArray(value) ? 'a sequence' : typeof value}`,
      file,
    );
  }
  const obj = value as Partial<KubeObject>;
  const missing = [
    typeof obj.apiVersion === 'string' && obj.apiVersion ? undefined : 'apiVersion',
    typeof obj.kind === 'string' && obj.kind ? undefined : 'kind',
    typeof obj.metadata?.name === 'string' && obj.metadata.name ? undefined : 'metadata.name',
  ].filter((f) => f !== undefined);
  if (missing.length) throw new BuildError('InvalidManifest', `${where}: missing ${missing.join(', ')}`, file);
  return obj as KubeObject;
}

export function yamlSyntaxError(error: YAMLError, file: string, output?: string): BuildError {
  const line = error.linePos?.[0].line;
  const where = line === undefined ? '' : `, line ${line}${output ? ` of the ${output}` : ''}`;
  return new BuildError('YamlSyntax', `${file}${where}: YAML syntax error: ${error.message.split('\n')[0]}`, file);
}
