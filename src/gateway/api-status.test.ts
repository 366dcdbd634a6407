import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiDefinition, HealthCheck } from '../api/kinds/api-definition/index.ts';
import { INACTIVE, type ApiOutcome } from './api-outcome.ts';
import { apiStatus, UPSTREAM_HEALTHY } from './api-status.ts';
import type { TargetHealth } from './upstream.ts';

const check: HealthCheck = {
  path: '/healthz',
  interval: '1s',
  timeout: '1s',
  healthyThreshold: 1,
  unhealthyThreshold: 1,
};
const served: ApiOutcome = {
  reason: 'Served',
  listeners: ['public', 'internal'],
  message: 'served on the public and internal listeners at /a',
};
const t0 = new Date('2024-01-01T00:00:00Z');
const t1 = new Date('2024-01-01T00:01:00Z');

function api(healthCheck?: HealthCheck, status?: ApiDefinition['status']): ApiDefinition {
  return {
    apiVersion: 'gatehouse.dev/v1alpha1',
    kind: 'ApiDefinition',
    metadata: { name: 'a', namespace: 'ns', generation: 3 },
    spec: {
      active: true,
      visibility: 'public',
      listenPath: '/a',
      stripListenPath: false,
      upstream: { targets: [{ url: 'http://x' }], timeout: '30s', connectTimeout: '5s', retries: 0, healthCheck },
      auth: { type: 'keyless' },
    },
    status,
  } as ApiDefinition;
}

const condition = (status: ApiDefinition['status'], type: string) => status?.conditions?.find((c) => c.type === type);

describe('apiStatus', () => {
  it('reports a served API Ready with the outcome, for the generation the config was compiled from', () => {
    const status = apiStatus(api(), 2, served, [{ url: 'http://x', healthy: true, judged: true }], t0);
    assert.equal(status.observedGeneration, 2);
    assert.deepEqual(condition(status, 'Ready'), {
      type: 'Ready',
      status: 'True',
      reason: 'Served',
      message: served.message,
      lastTransitionTime: '2024-01-01T00:00:00Z',
      observedGeneration: 2,
    });
    assert.deepEqual(condition(status, UPSTREAM_HEALTHY), {
      type: UPSTREAM_HEALTHY,
      status: 'Unknown',
      reason: 'NoHealthCheck',
      message: 'spec.upstream.healthCheck is not set: targets are not checked',
      lastTransitionTime: '2024-01-01T00:00:00Z',
      observedGeneration: 2,
    });
  });

  it('reports an API left out as not Ready, with nothing checked', () => {
    const status = apiStatus(api(check), 3, INACTIVE, undefined, t0);
    assert.deepEqual(
      [condition(status, 'Ready')?.status, condition(status, 'Ready')?.reason, condition(status, 'Ready')?.message],
      ['False', 'Inactive', INACTIVE.message],
    );
    assert.deepEqual(
      [condition(status, UPSTREAM_HEALTHY)?.status, condition(status, UPSTREAM_HEALTHY)?.reason],
      ['Unknown', 'NotServed'],
    );
  });

  it('says which targets fail their checks: some (Degraded), all (Unhealthy), none (Healthy)', () => {
    const of = (targets: TargetHealth[]) => condition(apiStatus(api(check), 3, served, targets, t0), UPSTREAM_HEALTHY);
    assert.deepEqual(
      {
        ...of([
          { url: 'http://a', healthy: true, judged: true },
          { url: 'http://b', healthy: false, judged: true },
        ]),
        lastTransitionTime: undefined,
      },
      {
        type: UPSTREAM_HEALTHY,
        status: 'False',
        reason: 'Degraded',
        message: '1 of 2 targets fail the check of /healthz: http://b',
        lastTransitionTime: undefined,
        observedGeneration: 3,
      },
    );
    assert.equal(
      of([
        { url: 'http://a', healthy: false, judged: true },
        { url: 'http://b', healthy: false, judged: true },
      ])?.reason,
      'Unhealthy',
    );
    assert.deepEqual(
      [
        of([{ url: 'http://a', healthy: true, judged: true }])?.status,
        of([{ url: 'http://a', healthy: true, judged: true }])?.message,
      ],
      ['True', '1 of 1 targets pass the check of /healthz'],
    );
    assert.deepEqual([of([])?.status, of([])?.reason], ['Unknown', 'NoTargets']);
    // Healthy until proven otherwise routes traffic, but is no proof: a Sync's health checks wait for one.
    const unproven = of([
      { url: 'http://a', healthy: true, judged: true },
      { url: 'http://b', healthy: true, judged: false },
    ]);
    assert.deepEqual(
      [unproven?.status, unproven?.reason, unproven?.message],
      ['Unknown', 'Checking', '1 of 2 targets not yet judged by the check of /healthz'],
    );
  });

  it('yields an equal status when nothing changed, and keeps conditions others set', () => {
    const other = {
      type: 'Audited',
      status: 'True' as const,
      reason: 'Checked',
      message: '',
      lastTransitionTime: '2023-01-01T00:00:00Z',
    };
    const first = apiStatus(
      api(check, { conditions: [other] }),
      3,
      served,
      [{ url: 'http://x', healthy: true, judged: true }],
      t0,
    );
    const again = apiStatus(api(check, first), 3, served, [{ url: 'http://x', healthy: true, judged: true }], t1);
    assert.deepEqual(again, first);
    assert.deepEqual(condition(again, 'Audited'), other);
    const flipped = apiStatus(api(check, first), 3, served, [{ url: 'http://x', healthy: false, judged: true }], t1);
    assert.equal(condition(flipped, UPSTREAM_HEALTHY)?.lastTransitionTime, '2024-01-01T00:01:00Z');
    assert.equal(condition(flipped, 'Ready')?.lastTransitionTime, '2024-01-01T00:00:00Z');
  });
});
