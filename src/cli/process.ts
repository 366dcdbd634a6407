// Process-level helpers every command shares: the logger, option parsers, and shutdown on
// signals.
import { InvalidArgumentError } from 'commander';
import { delimiter } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/** Human-readable lines on a terminal, one JSON object per line otherwise (for collectors).
 * The level comes from GATEHOUSE_LOG_LEVEL (default info). */
export function createLogger(out: NodeJS.WritableStream & { isTTY?: boolean }, level = 'info'): Logger {
  const levels = Object.keys(pino.levels.values);
  if (!levels.includes(level)) throw new Error(`GATEHOUSE_LOG_LEVEL=${level}: expected one of ${levels.join(', ')}`);
  // Synchronous so a line written just before process.exit is not lost.
  const destination = out.isTTY ? pretty({ destination: out, sync: true, ignore: 'pid,hostname' }) : out;
  return pino({ name: 'gatehouse', level }, destination);
}

export const logger = createLogger(process.stdout, process.env.GATEHOUSE_LOG_LEVEL || undefined);

/** The kubeconfig of a command run without --kubeconfig: $KUBECONFIG as kubectl reads it
 * (of a list, the first file: Gatehouse does not merge kubeconfigs), else the one
 * `gatehouse up` writes in its default data directory. */
export function defaultKubeconfig(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBECONFIG?.split(delimiter).find(Boolean) ?? '.gatehouse/kubeconfig';
}

/** A whole number, 0 or more (sizes, counts of files). */
export function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a whole number (0 or more)`);
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`"${value}" is not a port number (0-65535)`);
  return n;
}

/** Stops everything on SIGINT/SIGTERM: servers stop accepting, storage is closed (every
 * acknowledged write is already durable), then the process exits. */
export function stopOnSignals(stoppers: Array<() => Promise<void>>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    Promise.all(stoppers.map((s) => s()))
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
