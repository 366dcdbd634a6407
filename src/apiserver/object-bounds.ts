// What a decoded body, and every object the server stores, may become. The 3 MiB read
// limit bounds the bytes that arrive, not what they decode to: YAML aliases repeat a node
// wherever they point (a 300 KB body expanded to a 30 MB object), and a few kilobytes of
// brackets nest deeper than the recursive parts of the server can follow (schema pruning
// and validation, merge patches, YAML and Table output). Both are bounded here, once, for
// request bodies (http/body.ts) and for the result of every write (registry/store.ts),
// so a patch cannot grow an object past what a body may carry.
import { type ApiError, errors } from './errors.ts';

/** The largest object, measured as the JSON the server writes: kube-apiserver's 3 MiB
 * request body limit, applied after decoding too. */
export const MAX_OBJECT_BYTES = 3 * 1024 * 1024;

/** The deepest nesting of objects and arrays. kube-apiserver's JSON decoder allows 10,000
 * levels; Node's default stack overflows in YAML output at about 670, and the deepest
 * legitimate Gatehouse object (managedFields of the deepest spec field) is under 20. */
export const MAX_NESTING_DEPTH = 100;

/** Throws 413 when `value` would serialise to more than MAX_OBJECT_BYTES of JSON, 400 when
 * it nests deeper than MAX_NESTING_DEPTH; `what` names the body or object in the message.
 * Shared subtrees (YAML aliases) count once per place they appear, as in the JSON. The
 * walk stops at the first bound crossed, so it costs no more than the bounds allow. */
export function assertWithinBounds(value: unknown, what: string): void {
  const path: (string | number)[] = [];
  let bytes = 0;
  const walk = (node: unknown, depth: number): void => {
    if (typeof node === 'string') bytes += jsonStringBytes(node);
    else if (typeof node === 'number' || typeof node === 'boolean') bytes += String(node).length;
    else if (node === null) bytes += 4;
    else if (typeof node === 'object') {
      if (depth > MAX_NESTING_DEPTH) throw tooDeep(what, path);
      bytes += 2;
      if (Array.isArray(node)) {
        for (let i = 0; i < node.length; i++) {
          path.push(i);
          bytes += i ? 1 : 0;
          walk(node[i] ?? null, depth + 1);
          path.pop();
        }
      } else {
        let members = 0;
        for (const [key, child] of Object.entries(node)) {
          if (child === undefined) continue;
          path.push(key);
          bytes += jsonStringBytes(key) + (members++ ? 2 : 1);
          walk(child, depth + 1);
          path.pop();
        }
      }
    }
    if (bytes > MAX_OBJECT_BYTES) throw tooLarge(what);
  };
  walk(value, 1);
}

function jsonStringBytes(s: string): number {
  // Plain ASCII without characters JSON escapes is the common case: its length is its size.
  return /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(s) ? s.length + 2 : Buffer.byteLength(JSON.stringify(s));
}

/** At most this many leading path segments are named in a message; the rest is elided. */
const SHOWN_SEGMENTS = 12;

function fieldPath(path: (string | number)[]): string {
  const shown = path.slice(0, SHOWN_SEGMENTS).map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${p}`));
  return `${shown.join('')}${path.length > SHOWN_SEGMENTS ? '…' : ''}`;
}

function tooDeep(what: string, path: (string | number)[]): ApiError {
  const field = fieldPath(path);
  const message = `nested more than ${MAX_NESTING_DEPTH} levels deep`;
  const cause = { reason: 'FieldValueInvalid', field, message };
  return errors.badRequest(`${what} is nested too deeply: ${field} is ${message}`, [cause]);
}

function tooLarge(what: string): ApiError {
  return errors.objectTooLarge(`${what} is larger than ${MAX_OBJECT_BYTES} bytes as JSON`);
}
