// Request bodies: read with kube-apiserver's 3 MiB limit and decoded as JSON or YAML, or
// as Kubernetes protobuf where the caller allows it (creates and updates of core kinds).
// What a body decodes to is bounded too (object-bounds.ts): a body over a bound is refused
// with a Status naming it, never followed into a stack overflow or an out-of-memory.
import type { IncomingMessage } from 'node:http';
import { CST, Lexer, parseDocument } from 'yaml';
import { errors } from '../errors.ts';
import { assertWithinBounds, MAX_NESTING_DEPTH } from '../object-bounds.ts';
import { decodeProtobuf } from './protobuf.ts';

export const PROTOBUF_TYPE = 'application/vnd.kubernetes.protobuf';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    req.resume();
    throw errors.tooLarge(MAX_BODY_BYTES);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      throw errors.tooLarge(MAX_BODY_BYTES);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Decodes a body by its media type; `what` names the target in error messages.
 * `protobuf` admits Kubernetes protobuf bodies: only whole objects (create, update), never
 * patches or options. */
export function decodeBody(
  raw: Buffer,
  contentType: string | undefined,
  what: string,
  options: { protobuf?: boolean } = {},
): unknown {
  const media = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (media === PROTOBUF_TYPE && options.protobuf) {
    if (raw.length === 0) throw errors.badRequest(`the request body for ${what} is empty`);
    return decodeProtobuf(raw, what);
  }
  const isYaml = media === 'application/yaml' || media === 'application/apply-patch+yaml' || media === 'text/yaml';
  if (!isYaml && media !== 'application/json' && !media.endsWith('+json')) {
    throw errors.unsupportedMediaType(media, [
      'application/json',
      'application/yaml',
      ...(options.protobuf ? [PROTOBUF_TYPE] : []),
    ]);
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') throw errors.badRequest(`the request body for ${what} is empty`);
  const value = isYaml ? decodeYamlOrJson(text, what) : decodeJson(text, what);
  assertWithinBounds(value, `the request body for ${what}`);
  return value;
}

function decodeJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.badRequest(`the request body for ${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** JSON is YAML, and what client-go, kubectl and Flux send as application/apply-patch+yaml: a body that
 * parses as JSON skips the YAML parser, several times slower on the same text. */
function decodeYamlOrJson(text: string, what: string): unknown {
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      // Not JSON: a YAML flow mapping, or invalid; the YAML parser decides and names the error.
    }
  }
  return decodeYaml(text, what);
}

/** The yaml package's bound on alias expansion (its default, made explicit): an alias
 * counts once per use times the aliases inside what it points to. What survives it is
 * still bounded by size, after decoding. */
const MAX_YAML_ALIAS_COUNT = 100;

function decodeYaml(text: string, what: string): unknown {
  // The parser recurses per level and, some thousands of levels down, burns seconds of CPU
  // or aborts the process: too deep a body is refused before it is parsed.
  if (yamlNestingExceeds(text, MAX_NESTING_DEPTH)) {
    const levels = `more than ${MAX_NESTING_DEPTH} levels of YAML collections`;
    throw errors.badRequest(`the request body for ${what} is nested too deeply: ${levels}`);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) {
    throw errors.badRequest(`the request body for ${what} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  }
  try {
    return doc.toJS({ json: true, maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (err) {
    // Alias expansion is where toJS fails: past the count, or an alias to nothing.
    throw errors.badRequest(`the request body for ${what} is refused: ${(err as Error).message} (YAML aliases)`);
  }
}

/** Whether YAML text nests collections deeper than `max`, judged from its tokens alone (a
 * linear scan): flow collections by their brackets, block collections by their
 * indentation, as go-yaml counts them. It may count fewer levels than there are (a block
 * sequence at its parent key's indentation), never more; the decoded value is measured
 * exactly afterwards. */
function yamlNestingExceeds(text: string, max: number): boolean {
  const indents: number[] = [];
  let flow = 0;
  let column = 0;
  let lineStart = true;
  let keyColumn: number | undefined;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    // Markers the lexer adds: no text of the source.
    if (token === CST.SCALAR || type === 'doc-mode' || type === 'flow-error-end' || type === 'byte-order-mark') {
      continue;
    }
    const at = column;
    const newline = token.lastIndexOf('\n');
    column = newline >= 0 ? token.length - newline - 1 : column + token.length;
    if (type === 'doc-start' || type === 'doc-end') {
      indents.length = 0;
      flow = 0;
    } else if (type !== 'newline' && type !== 'space' && type !== 'comment') {
      if (flow === 0 && lineStart) while (indents.length && indents[indents.length - 1] > at) indents.pop();
      lineStart = false;
      const top = indents.length ? indents[indents.length - 1] : -1;
      if (type === 'flow-map-start' || type === 'flow-seq-start') {
        if (flow++ === 0) keyColumn ??= at;
      } else if (type === 'flow-map-end' || type === 'flow-seq-end') {
        flow = Math.max(0, flow - 1);
      } else if (flow === 0 && (type === 'seq-item-ind' || type === 'explicit-key-ind')) {
        if (at > top) indents.push(at);
        keyColumn = undefined;
      } else if (flow === 0 && type === 'map-value-ind') {
        if (keyColumn !== undefined && keyColumn > top) indents.push(keyColumn);
        keyColumn = undefined;
      } else if (flow === 0) {
        keyColumn ??= at;
      }
      if (indents.length + flow > max) return true;
    }
    if (newline >= 0) {
      lineStart = true;
      keyColumn = undefined;
    }
  }
  return false;
}
