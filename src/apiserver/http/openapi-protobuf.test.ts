import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { GNOSTIC_V2, openApiV2Protobuf } from './openapi-protobuf.ts';

const Document = GNOSTIC_V2.lookupType('openapi.v2.Document');
const decode = (doc: unknown) => Document.toObject(Document.decode(openApiV2Protobuf(doc)), { longs: Number });

describe('OpenAPI v2 as gnostic protobuf', () => {
  it('keeps vendor extensions and defaults as YAML, and a type as a list, as gnostic does', () => {
    const schema = {
      type: 'object',
      properties: { port: { type: 'integer', default: 80, maxLength: 5 } },
      'x-kubernetes-group-version-kind': [{ group: 'gatehouse.dev', version: 'v1alpha1', kind: 'ApiDefinition' }],
    };
    const decoded = decode({ swagger: '2.0', definitions: { thing: schema } });
    const thing = decoded.definitions.additional_properties[0];
    assert.equal(thing.name, 'thing');
    assert.deepEqual(thing.value.type, { value: ['object'] });
    const [gvk] = thing.value.vendor_extension;
    assert.equal(gvk.name, 'x-kubernetes-group-version-kind');
    assert.deepEqual(parseYaml(gvk.value.yaml), schema['x-kubernetes-group-version-kind']);
    const port = thing.value.properties.additional_properties[0];
    assert.equal(port.name, 'port');
    assert.equal(parseYaml(port.value.default.yaml), 80);
    assert.equal(port.value.max_length, 5);
  });

  it('refuses a key gnostic has no field for, naming where it is', () => {
    assert.throws(
      () => openApiV2Protobuf({ swagger: '2.0', definitions: { thing: { type: 'object', nullable: true } } }),
      /OpenAPI v2 \.definitions\.thing\.nullable: gnostic's Schema has no such field/,
    );
  });
});
