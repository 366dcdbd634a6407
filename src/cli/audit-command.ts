// The audit log from the command line: kube-apiserver's --audit-* flags for `gatehouse apiserver`
// and `gatehouse up`, and `gatehouse audit`, which prints the log (rotated files included) as a
// table of one line per request: when, who, what on which object, and the answer.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { InvalidArgumentError, type Command } from 'commander';
import { tryParseDuration } from '../api/duration.ts';
import { resolveKind } from '../api/kinds.ts';
import type { AuditLogOptions } from '../apiserver/audit/audit-log.ts';
import type { AuditEvent } from '../apiserver/audit/event.ts';
import { logFiles, MEBIBYTE } from '../log/log-file.ts';
import { CommandFailure } from './failure.ts';
import { table } from './print.ts';
import { count } from './options.ts';

export const AUDIT_LOG_FILE = 'audit.log';

export interface AuditFlags {
  auditPolicyFile?: string;
  auditLogPath?: string;
  auditLogMaxsize: number;
  auditLogMaxbackup: number;
}

/** kube-apiserver's audit flags; `defaultPath` is where `up` writes without --audit-log-path. */
export function withAuditFlags(command: Command, defaultPath?: string): Command {
  const path = defaultPath
    ? `audit log file, - for stdout (default: ${defaultPath})`
    : 'audit log file, - for stdout; ' + 'without it no request is recorded';
  return command
    .option('--audit-policy-file <file>', 'audit.k8s.io/v1 Policy of what is recorded (default: the built-in policy)')
    .option('--audit-log-path <file>', path)
    .option('--audit-log-maxsize <MB>', 'size at which the audit log is rotated, in megabytes (0: 100)', count, 100)
    .option('--audit-log-maxbackup <n>', 'rotated audit log files kept (0: all)', count, 10);
}

/** The API server's audit options from the flags; undefined when nothing is to be recorded. */
export async function auditLogOptions(flags: AuditFlags, defaultPath?: string): Promise<AuditLogOptions | undefined> {
  const path = flags.auditLogPath ?? defaultPath;
  if (!path) {
    if (flags.auditPolicyFile) throw new InvalidArgumentError('--audit-policy-file needs --audit-log-path');
    return undefined;
  }
  const file = flags.auditPolicyFile;
  // The policy's parser (and YAML) is imported only by a server that records.
  const policy = file
    ? (await import('../apiserver/audit/policy.ts')).parseAuditPolicy(await readFile(file, 'utf8'), file)
    : undefined;
  return { path, policy, maxBytes: flags.auditLogMaxsize * MEBIBYTE, maxBackups: flags.auditLogMaxbackup };
}

interface AuditQuery {
  dataDir: string;
  auditLogPath?: string;
  object?: string;
  user?: string;
  since?: number;
  output: 'table' | 'json';
}

/** `KIND/NAME` as kubectl names objects: kind, plural, singular or short name, optionally `.group`. */
function objectFilter(value: string): (e: AuditEvent) => boolean {
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1) throw new InvalidArgumentError(`"${value}" is not KIND/NAME`);
  const kind = value.slice(0, slash);
  const name = value.slice(slash + 1);
  const def = resolveKind(kind);
  const resource = def?.plural ?? kind.toLowerCase();
  return (e) =>
    e.objectRef?.resource === resource &&
    e.objectRef.name === name &&
    (def === undefined || (e.objectRef.apiGroup ?? '') === def.group);
}

function since(value: string): number {
  const ms = tryParseDuration(value);
  if (ms === undefined || ms < 0) {
    throw new InvalidArgumentError(`--since ${value}: expected a duration such as 1h or 30m`);
  }
  return ms;
}

/** The last event of each request (its ResponseComplete or Panic under the usual policies), in
 * the order the requests were received. */
async function requests(path: string, keep: (e: AuditEvent) => boolean): Promise<AuditEvent[]> {
  const byId = new Map<string, AuditEvent>();
  for (const file of await logFiles(path)) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      let event: AuditEvent;
      try {
        event = JSON.parse(line) as AuditEvent;
      } catch {
        continue;
      }
      if (event.kind !== 'Event' || !keep(event)) continue;
      byId.delete(event.auditID);
      byId.set(event.auditID, event);
    }
  }
  return [...byId.values()].sort((a, b) => a.requestReceivedTimestamp.localeCompare(b.requestReceivedTimestamp));
}

function objectOf(e: AuditEvent): string {
  const ref = e.objectRef;
  if (!ref) return e.requestURI.split('?')[0];
  const resource = `${ref.resource}${ref.apiGroup ? `.${ref.apiGroup}` : ''}`;
  return [resource, ref.namespace, ref.name, ref.subresource].filter(Boolean).join('/');
}

function row(e: AuditEvent): string[] {
  const user = e.impersonatedUser ? `${e.user.username} as ${e.impersonatedUser.username}` : e.user.username;
  const time = e.requestReceivedTimestamp.replace(/\.\d+Z$/, 'Z');
  return [
    time,
    user || '(unauthenticated)',
    e.verb,
    objectOf(e),
    String(e.responseStatus?.code ?? ''),
    e.sourceIPs[0] ?? '',
  ];
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('print the audit log: one line per request, oldest first')
    .option('--data-dir <dir>', `data directory of gatehouse up, whose ${AUDIT_LOG_FILE} is read`, '.gatehouse')
    .option('--audit-log-path <file>', 'the audit log to read (default: DATA_DIR/audit.log)')
    .option('--object <KIND/NAME>', 'only requests on this object, e.g. apidefinitions/shop or Secret/deploy-key')
    .option('--user <name>', 'only requests made by this user, or impersonating it')
    .option('--since <duration>', 'only requests received within this long, e.g. 1h', since)
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (flags: AuditQuery) => {
      if (flags.output !== 'table' && flags.output !== 'json') {
        throw new InvalidArgumentError(`-o ${flags.output}: expected table or json`);
      }
      const path = flags.auditLogPath ?? join(flags.dataDir, AUDIT_LOG_FILE);
      if ((await logFiles(path)).length === 0) {
        throw new CommandFailure(
          `no audit log at ${path}: gatehouse up writes DATA_DIR/${AUDIT_LOG_FILE}, ` +
            'gatehouse apiserver writes one with --audit-log-path',
          1,
        );
      }
      const object = flags.object === undefined ? undefined : objectFilter(flags.object);
      const from = flags.since === undefined ? undefined : Date.now() - flags.since;
      const found = await requests(
        path,
        (e) =>
          (object === undefined || object(e)) &&
          (flags.user === undefined || e.user.username === flags.user || e.impersonatedUser?.username === flags.user) &&
          (from === undefined || Date.parse(e.requestReceivedTimestamp) >= from),
      );
      if (flags.output === 'json') {
        const list = { apiVersion: 'audit.k8s.io/v1', kind: 'EventList', items: found };
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      if (found.length === 0) {
        process.stderr.write('No audit events found.\n');
        return;
      }
      process.stdout.write(table([['TIME', 'USER', 'VERB', 'OBJECT', 'CODE', 'SOURCE'], ...found.map(row)]));
    });
}
