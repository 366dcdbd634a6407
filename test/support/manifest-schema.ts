// An offline schema check of Kubernetes manifests. Built-in kinds are checked against the models of
// @kubernetes/client-node, generated from Kubernetes' own OpenAPI document (each model lists every field of its
// kind with its type): an unknown or misspelled field, or a value of the wrong type, is an error naming its path,
// as `kubectl apply --validate=strict` reports it. What the models do not say (required fields, enums) is not
// checked. cert-manager's Issuer and Certificate, not Kubernetes kinds, are checked against a JSON Schema of the
// fields deploy/ uses, written from cert-manager's v1 API reference (cert-manager.io/docs/reference/api-docs),
// with every other field refused.
import * as models from '@kubernetes/client-node';
import { Ajv } from 'ajv';

interface Attribute {
  baseName: string;
  type: string;
  format: string;
}
type Model = { getAttributeTypeMap(): Attribute[] };

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

function check(value: unknown, type: string, format: string, path: string, errors: string[]): void {
  const wrong = (expected: string) => errors.push(`${path}: expected ${expected}, got ${JSON.stringify(value)}`);
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  if (type === 'any') return;
  if (type === 'string' || type === 'Date') {
    if (typeof value !== 'string') wrong('a string');
  } else if (type === 'number') {
    if (typeof value !== 'number' || (format.startsWith('int') && !Number.isInteger(value))) wrong(`a ${format}`);
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') wrong('a boolean');
  } else if (type === 'IntOrString') {
    if (typeof value !== 'string' && !Number.isInteger(value)) wrong('an integer or a string');
  } else if (ARRAY.test(type)) {
    if (!Array.isArray(value)) return void wrong('a list');
    for (const [i, item] of value.entries()) check(item, ARRAY.exec(type)![1], format, `${path}[${i}]`, errors);
  } else if (MAP.test(type)) {
    if (!isObject) return void wrong('a map');
    for (const [k, v] of Object.entries(value)) check(v, MAP.exec(type)![1], format, `${path}.${k}`, errors);
  } else {
    const model = (models as unknown as Record<string, Model | undefined>)[type];
    if (!model) return void errors.push(`${path}: no model ${type}`);
    if (!isObject) return void wrong(`an object (${type})`);
    const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a]));
    for (const [k, v] of Object.entries(value)) {
      const attribute = attributes.get(k);
      if (!attribute) errors.push(`${path}.${k}: unknown field (${type})`);
      else check(v, attribute.type, attribute.format, `${path}.${k}`, errors);
    }
  }
}

const strict = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
const str = { type: 'string' };
const issuerRef = strict({ name: str, kind: { enum: ['Issuer', 'ClusterIssuer'] }, group: str }, ['name']);
const privateKey = strict({
  algorithm: { enum: ['RSA', 'ECDSA', 'Ed25519'] },
  size: { type: 'integer' },
  encoding: str,
  rotationPolicy: str,
});
const metadata = strict({ name: str, namespace: str, labels: { type: 'object' }, annotations: { type: 'object' } });
const certManager = (spec: object) =>
  strict({ apiVersion: { const: 'cert-manager.io/v1' }, kind: str, metadata, spec });
const USAGES = ['server auth', 'client auth', 'digital signature', 'key encipherment', 'cert sign'];
const CERT_MANAGER: Record<string, object> = {
  Issuer: certManager(
    strict({ selfSigned: strict({ crlDistributionPoints: { type: 'array' } }), ca: strict({ secretName: str }) }),
  ),
  Certificate: certManager(
    strict(
      {
        secretName: str,
        commonName: str,
        dnsNames: { type: 'array', items: str },
        isCA: { type: 'boolean' },
        duration: str,
        renewBefore: str,
        usages: { type: 'array', items: { enum: USAGES } },
        privateKey,
        issuerRef,
      },
      ['secretName', 'issuerRef'],
    ),
  ),
};
const ajv = new Ajv({ allErrors: true });

/** What is wrong with `obj`, one line per field; empty when nothing is. */
export function schemaErrors(obj: { apiVersion: string; kind: string; metadata: { name?: string } }): string[] {
  const errors: string[] = [];
  const where = `${obj.kind} ${obj.metadata?.name}`;
  if (obj.apiVersion === 'cert-manager.io/v1') {
    const schema = CERT_MANAGER[obj.kind];
    if (!schema) return [`${where}: not a cert-manager kind this check knows`];
    const validate = ajv.compile(schema);
    if (!validate(obj)) for (const e of validate.errors ?? []) errors.push(`${where}${e.instancePath}: ${e.message}`);
    return errors;
  }
  const version = obj.apiVersion.split('/').pop()!;
  const type = `${version[0].toUpperCase()}${version.slice(1)}${obj.kind}`;
  check(obj, type, '', where, errors);
  return errors;
}
