import type { CreatePreparation, FieldError, KindDefinition, KubeObject } from '../../kind.ts';
import { ageColumn, column, readyColumn } from '../../columns.ts';
import { invalid } from '../../schema/object-meta.ts';
import { isPlainObject } from '../../schema/walk.ts';
import { mintApiKey } from './mint.ts';
import { apiKeySchema } from './schema.ts';
import type { ApiKey } from './types.ts';

const spec = (obj: KubeObject) => (obj as ApiKey).spec;

/** Mints the key, whose plaintext leaves only through responseOnly (the server shows it as
 * status.key once) — unless the client sent a hash: keys kept in Git are minted outside and
 * only their hash is committed. Planting a hash gives no power minting does not: whoever
 * may create an ApiKey learns its key either way. The warning is for `kubectl apply` and
 * `kubectl create`, which print no field of the answer: their users would never see the key. */
function prepareForCreate(obj: KubeObject): CreatePreparation {
  // A spec that is not an object is validation's to refuse, unchanged.
  if (!isPlainObject(obj.spec) || spec(obj).hash !== undefined) return {};
  const minted = mintApiKey();
  obj.spec = { ...(obj.spec as object), hash: minted.hash, prefix: minted.prefix };
  const name = `${obj.metadata.namespace}/${obj.metadata.name ?? obj.metadata.generateName ?? ''}`;
  const warning =
    `ApiKey ${name}: its key is shown only in this create response (status.key) and is never stored; ` +
    'kubectl apply prints no key: use "gatehouse create apikey", or commit spec.hash of a key minted outside';
  return { responseOnly: { key: minted.key }, warnings: [warning] };
}

/** hash and prefix never change after create: an update cannot re-key. */
/** hash and prefix stay as stored; one that was never set stays absent, so an update that changes
 * nothing compares equal and is not written. */
function prepareForUpdate(obj: KubeObject, old: KubeObject): void {
  const next = { ...(obj.spec as Record<string, unknown>) };
  for (const field of ['hash', 'prefix'] as const) {
    const stored = spec(old)[field];
    if (stored === undefined) delete next[field];
    else next[field] = stored;
  }
  obj.spec = next;
}

function validate(obj: KubeObject): FieldError[] {
  const { hash } = spec(obj);
  const errors: FieldError[] = [];
  if (hash !== undefined && !/^sha256:[0-9a-f]{64}$/.test(hash))
    errors.push(invalid('spec.hash', hash, 'must be "sha256:" and 64 lower-case hex digits (the SHA-256 of the key)'));
  return errors;
}

function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const consumer = spec(obj).consumer;
  return consumer === spec(old).consumer ? [] : [invalid('spec.consumer', consumer, 'field is immutable')];
}

export const apiKeyKind: KindDefinition = {
  group: 'gatehouse.dev',
  version: 'v1alpha1',
  kind: 'ApiKey',
  listKind: 'ApiKeyList',
  plural: 'apikeys',
  singular: 'apikey',
  shortNames: ['apikey'],
  categories: ['gatehouse'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  schema: apiKeySchema,
  description: apiKeySchema.description!,
  printerColumns: [
    column('Consumer', 'Consumer the key authenticates as.', (o) => spec(o).consumer),
    column('Prefix', 'First characters of the key.', (o) => spec(o).prefix ?? ''),
    column('Expires', 'When the key stops working.', (o) => spec(o).expires ?? ''),
    readyColumn(),
    ageColumn(),
  ],
  selectableFields: ['spec.consumer'],
  strategy: { prepareForCreate, prepareForUpdate, validate, validateUpdate },
};

export type * from './types.ts';
export { hashApiKey, mintApiKey } from './mint.ts';
