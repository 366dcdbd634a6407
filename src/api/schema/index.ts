// What the API server calls to publish, default, prune and validate objects of any kind.
export { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, objectMetaSchema, validateObjectMeta } from './object-meta.ts';
export { fullSchema } from './full-schema.ts';
export { applyDefaults } from './defaults.ts';
export { findUnknownFields, pruneUnknownFields } from './unknown-fields.ts';
export { decodeObjectMeta, pruneNulls } from './nulls.ts';
export { RULES_NOT_CHECKED, validateObject } from './validate.ts';
export { parseDuration } from '../duration.ts';
