import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { KubeObject } from '../../kind.ts';
import { alertKind } from './index.ts';

it('refuses a regular expression that does not compile, matchLabels without name *, another namespace', () => {
  const alert = {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'Alert',
    metadata: { name: 'a', namespace: 'default' },
    spec: {
      providerRef: { name: 'p' },
      eventSources: [
        { kind: 'Sync', name: 'apis', matchLabels: { env: 'prod' } },
        { kind: 'Sync', name: 'apis', namespace: 'default' },
        { kind: 'Sync', name: '*', namespace: 'other-team' },
      ],
      inclusionList: ['^ok', '(unclosed'],
    },
  } as KubeObject;
  const errors = alertKind.strategy.validate!(alert).map((e) => `${e.field}: ${e.message}`);
  assert.equal(errors.length, 3);
  assert.match(errors[0], /^spec\.inclusionList\[1\]: Invalid value: "\(unclosed": Invalid regular expression/);
  assert.equal(errors[1], 'spec.eventSources[0].name: Invalid value: "apis": must be * when matchLabels is set');
  assert.equal(
    errors[2],
    `spec.eventSources[2].namespace: Invalid value: "other-team": must be the alert's namespace (default)`,
  );
});
