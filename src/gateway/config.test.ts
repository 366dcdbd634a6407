import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ApiDefinition } from '../api/kinds/api-definition/index.ts';
import { RemoteKeySets } from './auth/jwks.ts';
import { apiDefinition, consumer } from './auth/testing.ts';
import {
  compileConfig,
  compiledApi,
  emptyInputs,
  type ApiChanges,
  type Carriers,
  type GatewayConfig,
  type GatewayInputs,
} from './config.ts';
import { Limiters } from './limiters.ts';
import { SharedCounters } from './shared-counters.ts';
import { Upstreams } from './upstream.ts';

/** An ApiDefinition as the API server hands it out: uid, generation and creation time set. */
function api(
  name: string,
  generation: number,
  spec: Partial<ApiDefinition['spec']> = {},
  created = `2026-01-01T00:00:0${name.length % 10}Z`,
): ApiDefinition {
  const base = apiDefinition({ type: 'keyless' }, name);
  return {
    ...base,
    metadata: { ...base.metadata, uid: `uid-${name}`, generation, creationTimestamp: created },
    spec: {
      ...base.spec,
      upstream: { ...base.spec.upstream, targets: [{ url: `http://127.0.0.1:1/${name}` }] },
      rateLimit: { requests: 100, per: '1s' },
      ...spec,
    },
  };
}

/** What the gateway tells compileConfig changed: the ApiDefinitions that are new, replaced or gone. */
function changesBetween(before: readonly ApiDefinition[], after: readonly ApiDefinition[]): ApiChanges {
  const id = (a: ApiDefinition) => `${a.metadata.namespace}/${a.metadata.name}`;
  const now = new Map(after.map((a) => [id(a), a]));
  const changes = new Map<string, ApiDefinition | undefined>();
  for (const a of before) if (!now.has(id(a))) changes.set(id(a), undefined);
  const then = new Map(before.map((a) => [id(a), a]));
  for (const [key, a] of now) if (then.get(key) !== a) changes.set(key, a);
  return changes;
}

// Every case twice: comparing every ApiDefinition, and told which changed (as the gateway does).
for (const told of [false, true])
  describe(`compileConfig, incrementally${told ? ', told what changed' : ''}`, () => {
    const counters = new SharedCounters();
    const carriers: Carriers = {
      upstreams: new Upstreams(),
      keySets: new RemoteKeySets(),
      limiters: new Limiters(counters),
    };
    after(async () => {
      await carriers.upstreams.close();
      await counters.close();
    });
    let generation = 0;
    const compile = (inputs: Partial<GatewayInputs>, previous?: GatewayConfig) => {
      const all = { ...emptyInputs(), ...inputs };
      return compileConfig(
        all,
        ++generation,
        'apiserver',
        carriers,
        previous,
        told && previous ? changesBetween(previous.inputs.apis, all.apis) : undefined,
      );
    };
    const compiled = (config: GatewayConfig, id: string) => compiledApi(config, id)!;

    it('reuses what an unchanged ApiDefinition compiled to, keeping its pool and limiter alive', () => {
      // A config handed to the next compile may be updated in place: what it held is read first.
      const one = compile({ apis: [api('a', 1), api('bb', 1)] });
      const [firstA, firstBb] = [compiled(one, 'shop/a'), compiled(one, 'shop/bb')];
      const limiterOfA = () =>
        carriers.limiters.rate('api:shop/a', { requests: 100, per: '1s' }, 'rate limit of the API (100 per 1s)');
      const limiter = limiterOfA();
      let config = one;
      // Several compiles in a row, each editing only bb: a's parts must survive every swap.
      for (let g = 2; g <= 4; g++)
        config = compile({ apis: [api('a', 1), api('bb', g, { listenPath: `/bb${g}` })] }, config);
      const a = compiled(config, 'shop/a');
      assert.equal(a, firstA, 'the same compiled API');
      assert.equal(a.targets.pick()!.pool.closed, false, 'its pool was not closed by a swap');
      assert.notEqual(compiled(config, 'shop/bb'), firstBb);
      assert.ok(config.public.match(undefined, ['bb4']), 'the edited API routes on its new path');
      assert.equal(config.public.match(undefined, ['bb']), undefined, 'and no longer on the old one');
      assert.equal(limiterOfA(), limiter, 'its limiter is still the one kept');
    });

    it('compiles an ApiDefinition again when its generation changes, not when only its resourceVersion does', () => {
      const first = compile({ apis: [api('a', 1)] });
      const statusWritten = { ...api('a', 1), metadata: { ...api('a', 1).metadata, resourceVersion: '99' } };
      const before = compiled(first, 'shop/a');
      const second = compile({ apis: [statusWritten] }, first);
      assert.equal(compiled(second, 'shop/a'), before);
      const third = compile({ apis: [api('a', 2)] }, second);
      assert.notEqual(compiled(third, 'shop/a'), before);
    });

    it('compiles every API again when a Consumer, SecurityPolicy, ApiKey or Secret changes', () => {
      const first = compile({ apis: [api('a', 1)], consumers: [consumer('acme', [])] });
      const second = compile({ apis: [api('a', 1)], consumers: [consumer('acme', ['gold'])] }, first);
      assert.notEqual(compiled(second, 'shop/a'), compiled(first, 'shop/a'));
    });

    it('keeps the older API on a contested route when the newer one is edited', () => {
      const older = api('old', 1, { listenPath: '/x' }, '2026-01-01T00:00:00Z');
      const first = compile({ apis: [api('new', 1, { listenPath: '/x' }, '2026-01-02T00:00:00Z'), older] });
      assert.equal(first.public.match(undefined, ['x'])!.value.id, 'shop/old');
      const second = compile(
        { apis: [api('new', 2, { listenPath: '/x', stripListenPath: true }, '2026-01-02T00:00:00Z'), older] },
        first,
      );
      assert.equal(second.public.match(undefined, ['x'])!.value.id, 'shop/old');
      assert.equal(second.outcomes.get('shop/new')!.reason, 'Shadowed');
    });

    it('serves the new version of an edited API that holds a contested route', () => {
      const newer = api('new', 1, { listenPath: '/y' }, '2026-01-02T00:00:00Z');
      const first = compile({ apis: [api('old', 1, { listenPath: '/y' }, '2026-01-01T00:00:00Z'), newer] });
      const second = compile(
        {
          apis: [
            api('old', 2, { listenPath: '/y', responseHeaders: { set: { 'x-version': '2' } } }, '2026-01-01T00:00:00Z'),
            newer,
          ],
        },
        first,
      );
      const served = second.public.match(undefined, ['y'])!.value;
      assert.equal(served, compiled(second, 'shop/old'));
      assert.deepEqual(served.responseHeaders?.set, [['x-version', '2']]);
      assert.match(second.outcomes.get('shop/new')!.message, /shop\/old, an older API/);
    });

    it('takes a deactivated API off its route and puts it back when it is active again', () => {
      const first = compile({ apis: [api('a', 1, { listenPath: '/z' })] });
      const off = compile({ apis: [api('a', 2, { listenPath: '/z', active: false })] }, first);
      assert.equal(off.public.match(undefined, ['z']), undefined);
      assert.equal(off.outcomes.get('shop/a')!.reason, 'Inactive');
      const on = compile({ apis: [api('a', 3, { listenPath: '/z' })] }, off);
      assert.equal(on.public.match(undefined, ['z'])!.value.id, 'shop/a');
      assert.equal(on.outcomes.get('shop/a')!.reason, 'Served');
    });

    it('closes the pool of an API that was deleted', () => {
      // An origin no other test's config holds.
      const own = (g: number) =>
        api('gone', g, {
          upstream: {
            targets: [{ url: `http://127.0.0.1:${told ? 3 : 2}/` }],
            timeout: '30s',
            connectTimeout: '5s',
            retries: 0,
          },
        });
      const first = compile({ apis: [own(1)] });
      const pool = compiled(first, 'shop/gone').targets.pick()!.pool;
      const second = compile({ apis: [own(2)] }, first);
      assert.equal(pool.closed, false, 'an edit keeps the pool of an unchanged origin');
      compile({ apis: [] }, second);
      assert.equal(pool.closed, true);
    });
  });
