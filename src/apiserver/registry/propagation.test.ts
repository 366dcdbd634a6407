import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import { deletionFinalizers, validatePropagation } from './propagation.ts';

test('the delete options decide the garbage collection finalizer, then the object, then background', () => {
  const cases: Array<[string[], Record<string, unknown>, string[]]> = [
    [[], {}, []],
    [['example.com/x'], {}, ['example.com/x']],
    [[], { propagationPolicy: 'Background' }, []],
    [[], { propagationPolicy: 'Foreground' }, ['foregroundDeletion']],
    [[], { propagationPolicy: 'Orphan' }, ['orphan']],
    [[], { orphanDependents: true }, ['orphan']],
    [['orphan'], { propagationPolicy: null, orphanDependents: null }, ['orphan']],
    [['orphan'], { orphanDependents: false }, []],
    // The options replace the finalizer a first delete set; others stay.
    [['example.com/x', 'foregroundDeletion'], { propagationPolicy: 'Orphan' }, ['example.com/x', 'orphan']],
    // Without options, a finalizer the object carries is its policy.
    [['orphan'], {}, ['orphan']],
    [['foregroundDeletion'], {}, ['foregroundDeletion']],
  ];
  for (const [finalizers, options, expected] of cases) {
    const what = `${JSON.stringify(finalizers)} ${JSON.stringify(options)}`;
    assert.deepEqual(deletionFinalizers(finalizers, options), expected, what);
  }
});

test('DeleteOptions are refused as kube-apiserver refuses them, naming the object and the field', () => {
  const refused = (options: Record<string, unknown>, field: string, message: RegExp) =>
    assert.throws(
      () => validatePropagation(options, 'configmaps/default/x'),
      (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.equal(err.reason, 'Invalid');
        assert.match(err.message, /^DeleteOptions\.meta\.k8s\.io "configmaps\/default\/x" is invalid: /);
        assert.match(err.message, message);
        assert.deepEqual(
          err.details?.causes?.map((c) => c.field),
          [field],
        );
        return true;
      },
    );
  refused({ propagationPolicy: 'Orphan', orphanDependents: false }, 'propagationPolicy', /cannot be both set/);
  refused({ propagationPolicy: 'Sideways' }, 'propagationPolicy', /Unsupported value: "Sideways"/);
  refused({ orphanDependents: 'yes' }, 'orphanDependents', /must be a boolean/);
  for (const propagationPolicy of ['Orphan', 'Background', 'Foreground', undefined, null]) {
    validatePropagation({ propagationPolicy, orphanDependents: null }, 'configmaps/default/x');
  }
});
