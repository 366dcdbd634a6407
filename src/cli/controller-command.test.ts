import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { leaderElection, registerControllerCommand } from './controller-command.ts';

function controllerCommand(): Command {
  const p = new Command('gatehouse').exitOverride();
  registerControllerCommand(p);
  return p.commands.find((c) => c.name() === 'controller')!;
}

/** The flags as parsed, without running the command. */
function parse(args: string[]) {
  const command = controllerCommand().exitOverride();
  // Refusals are asserted on the thrown error, not printed.
  command.configureOutput({ writeErr: () => {} });
  command.action(() => {});
  command.parse(args, { from: 'user' });
  return command.opts() as Parameters<typeof leaderElection>[0];
}

test('elects a leader by default, with a lease short enough for a take-over within 15 s', () => {
  assert.deepEqual(leaderElection(parse([])), {
    namespace: undefined,
    name: 'gatehouse-controller',
    leaseDurationMs: 10_000,
    renewDeadlineMs: 7_000,
    retryPeriodMs: 2_000,
  });
});

test('takes Go durations, a namespace, and --leader-elect=false', () => {
  const flags = parse([
    '--leader-election-namespace=gatehouse-system',
    '--leader-election-lease-duration=6s',
    '--leader-election-renew-deadline=4s',
    '--leader-election-retry-period=500ms',
  ]);
  assert.deepEqual(leaderElection(flags), {
    namespace: 'gatehouse-system',
    name: 'gatehouse-controller',
    leaseDurationMs: 6000,
    renewDeadlineMs: 4000,
    retryPeriodMs: 500,
  });
  assert.equal(leaderElection(parse(['--leader-elect=false'])), undefined);
});

test("refuses timings under which a leader could outlive its lease, as client-go's checks", () => {
  assert.throws(
    () => leaderElection(parse(['--leader-election-lease-duration=7s'])),
    /--leader-election-renew-deadline must be shorter than the lease duration/,
  );
  assert.throws(
    () => leaderElection(parse(['--leader-election-retry-period=10s'])),
    /--leader-election-retry-period must be shorter than the renew deadline/,
  );
  assert.throws(() => parse(['--leader-election-retry-period=soon']), /"soon" is not a positive duration/);
});
