// The delegated options of `gatehouse apiserver` as k8s.io/apiserver names them: lists comma-separated and
// repeatable, durations as Go writes them, and each refused outside aggregated mode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { addDelegationOptions, delegationOf, type DelegationFlags } from './delegation-options.ts';

const parse = (args: string[]) =>
  addDelegationOptions(new Command('apiserver'))
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .parse(args, { from: 'user' })
    .opts<DelegationFlags>();

test("flags: k8s.io/apiserver's names, lists comma-separated and repeatable, durations in milliseconds", () => {
  assert.deepEqual(
    parse([
      '--requestheader-allowed-names',
      'front-proxy-client,aggregator',
      '--requestheader-allowed-names',
      'other',
      '--requestheader-username-headers=X-Remote-User',
      '--authentication-token-webhook-cache-ttl',
      '2m',
      '--authorization-webhook-cache-authorized-ttl=0s',
      '--authorization-always-allow-paths',
      '/healthz,/metrics*',
      '--authentication-skip-lookup',
    ]),
    {
      requestheaderAllowedNames: ['front-proxy-client', 'aggregator', 'other'],
      requestheaderUsernameHeaders: ['X-Remote-User'],
      authenticationTokenWebhookCacheTtl: 120_000,
      authorizationWebhookCacheAuthorizedTtl: 0,
      authorizationAlwaysAllowPaths: ['/healthz', '/metrics*'],
      authenticationSkipLookup: true,
    },
  );
  assert.throws(() => parse(['--authorization-webhook-cache-unauthorized-ttl', 'soon']), /not a duration/);
});

test('a delegation flag is refused standalone, and --token-file in aggregated mode', async () => {
  const onError = () => {};
  await assert.rejects(
    delegationOf({ requestheaderAllowedNames: [] }, { mode: 'standalone' }, onError),
    /--requestheader-allowed-names is only valid with --mode aggregated/,
  );
  assert.equal(await delegationOf({}, { mode: 'standalone' }, onError), undefined);
  await assert.rejects(
    delegationOf({}, { mode: 'aggregated', tokenFile: 'tokens.csv' }, onError),
    /--token-file is only valid with --mode standalone/,
  );
});
