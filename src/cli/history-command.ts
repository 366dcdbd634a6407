// `gatehouse history api NAME`: the generations of an ApiDefinition the API server recorded (its history
// subresource), oldest first: when, by whom (a user, or a Sync with the Git revision and commit it applied),
// and which spec fields changed.
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { apiDefinitionKind } from '../api/kinds/api-definition/index.ts';
import type { ApiDefinitionHistory, ApiHistoryEntry } from '../api/kinds/api-definition/history.ts';
import { table } from './print.ts';
import { run, verb, withTarget, type Target } from './target.ts';

interface HistoryFlags extends Target {
  output: 'table' | 'json' | 'yaml';
}

/** Shown of a commit subject in the table; -o yaml shows it whole. */
const SUBJECT_WIDTH = 40;

export function registerHistoryCommand(program: Command): void {
  const history = verb(program, 'history', 'show what changed an object, generation by generation');
  withTarget(history.command('api').description("an ApiDefinition's generations: when, by whom, what changed"))
    .argument('<name>', 'the ApiDefinition')
    .addOption(
      new Option('-o, --output <format>', 'table, yaml or json').choices(['table', 'yaml', 'json']).default('table'),
    )
    .action((name: string, flags: HistoryFlags) =>
      run(flags, async (client, namespace): Promise<undefined> => {
        const found = await client.subresource<ApiDefinitionHistory>(apiDefinitionKind, name, 'history', namespace);
        if (flags.output === 'json') process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
        else if (flags.output === 'yaml') process.stdout.write(stringify(found));
        else process.stdout.write(historyTable(found.entries));
      }),
    );
}

/** GEN, TIME, BY, REVISION, CHANGED: one row per generation; BY is the Sync (and the commit's author and
 * subject) when a Sync's apply wrote it, else the user. */
export function historyTable(entries: readonly ApiHistoryEntry[]): string {
  const rows = entries.map((e) => [
    String(e.generation),
    e.time,
    by(e),
    e.sync?.revision ?? '',
    e.changes.map((c) => c.path).join(', '),
  ]);
  return table([['GEN', 'TIME', 'BY', 'REVISION', 'CHANGED'], ...rows]);
}

function by(entry: ApiHistoryEntry): string {
  const { sync, user = '' } = entry;
  if (!sync) return user;
  const subject =
    sync.subject && sync.subject.length > SUBJECT_WIDTH ? `${sync.subject.slice(0, SUBJECT_WIDTH - 1)}…` : sync.subject;
  const commit = [sync.author, subject && `"${subject}"`].filter(Boolean).join(' ');
  return `Sync ${sync.namespace}/${sync.name}${commit ? ` (${commit})` : ''}`;
}
