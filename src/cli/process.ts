// Process-level helpers of the commands that serve: the logger and shutdown on signals.
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
