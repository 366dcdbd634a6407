// Request bodies: read with kube-apiserver's 3 MiB limit and decoded as JSON or YAML, or
// as Kubernetes protobuf where the caller allows it (creates and updates of core kinds).
import type { IncomingMessage } from 'node:http';
import { parseDocument } from 'yaml';
import { errors } from '../errors.ts';
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
export function decodeBody(raw: Buffer, contentType: string | undefined, what: string, options: { protobuf?: boolean } = {}): unknown {
  const media = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (media === PROTOBUF_TYPE && options.protobuf) {
    if (raw.length === 0) throw errors.badRequest(`the request body for ${what} is empty`);
    return decodeProtobuf(raw, what);
  }
  const isYaml = media === 'application/yaml' || media === 'application/apply-patch+yaml' || media === 'text/yaml';
  if (!isYaml && media !== 'application/json' && !media.endsWith('+json')) {
    throw errors.unsupportedMediaType(media, ['application/json', 'application/yaml', ...(options.protobuf ? [PROTOBUF_TYPE] : [])]);
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') throw errors.badRequest(`the request body for ${what} is empty`);
  if (isYaml) {
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length) throw errors.badRequest(`the request body for ${what} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
    return doc.toJSON();
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.badRequest(`the request body for ${what} is not valid JSON: ${(err as Error).message}`);
  }
}
