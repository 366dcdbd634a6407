// Response media negotiation for resources. Kubernetes clients ask for a plain
// object, a Table (`as=Table;g=meta.k8s.io;v=v1`) or PartialObjectMetadata through
// parameters of the Accept header, in preference order. We serve JSON and YAML, and protobuf
// plain objects for the built-in kinds (kubectl and client-go ask `application/vnd.kubernetes.protobuf,
// application/json`); a client that accepts none of what a kind is served in gets kube-apiserver's 406.
import { errors } from '../errors.ts';
import { PROTOBUF_TYPE } from './protobuf.ts';

export type Shape = 'object' | 'table' | 'metadata';

export interface Representation {
  shape: Shape;
  encoding: 'json' | 'yaml' | 'protobuf';
  /** meta.k8s.io version of Table / PartialObjectMetadata asked for. */
  metaVersion: 'v1' | 'v1beta1';
}

export interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
  order: number;
}

/** The media ranges of an Accept header, most preferred first (by q, then by position). */
export function parseAccept(header: string): MediaRange[] {
  return header
    .split(',')
    .map((part, order) => {
      const [type, ...rawParams] = part.split(';').map((s) => s.trim());
      const params: Record<string, string> = {};
      for (const p of rawParams) {
        const eq = p.indexOf('=');
        if (eq > 0)
          params[p.slice(0, eq).trim().toLowerCase()] = p
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, '');
      }
      const q = params.q === undefined ? 1 : Number(params.q);
      return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0, order };
    })
    .filter((m) => m.type !== '' && m.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
}

const ENCODINGS: Record<string, Representation['encoding']> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/*': 'json',
  '*/*': 'json',
};

const TEXT_TYPES = ['application/json', 'application/yaml'];
const WITH_PROTOBUF = [...TEXT_TYPES, PROTOBUF_TYPE];

/** `protobuf`: whether the kind has a protobuf form (a built-in kind); without it, protobuf is never
 * chosen, as kube-apiserver for custom resources. */
export function negotiate(accept: string | undefined, allowShapes: boolean, protobuf = false): Representation {
  if (!accept || accept.trim() === '') return { shape: 'object', encoding: 'json', metaVersion: 'v1' };
  for (const range of parseAccept(accept)) {
    const encoding = protobuf && range.type === PROTOBUF_TYPE ? 'protobuf' : ENCODINGS[range.type];
    if (!encoding) continue;
    const as = range.params.as;
    // Tables and metadata-only objects are served as JSON or YAML only.
    if (encoding === 'protobuf' && as) continue;
    if (!as) return { shape: 'object', encoding, metaVersion: 'v1' };
    if (!allowShapes || range.params.g !== 'meta.k8s.io') continue;
    const version = range.params.v;
    if (version !== 'v1' && version !== 'v1beta1') continue;
    if (as === 'Table') return { shape: 'table', encoding, metaVersion: version };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList')
      return { shape: 'metadata', encoding, metaVersion: version };
  }
  throw errors.notAcceptable(protobuf ? WITH_PROTOBUF : TEXT_TYPES);
}

export const JSON_TYPE = 'application/json';
export const YAML_TYPE = 'application/yaml';
