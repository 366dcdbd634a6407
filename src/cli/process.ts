// Process-level helpers every command shares: the logger, option parsers, and shutdown on
// signals.
import { InvalidArgumentError } from 'commander';
import pino from 'pino';

export const logger = pino({ name: 'gatehouse', level: process.env.GATEHOUSE_LOG_LEVEL ?? 'info' });

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port number (0-65535)`);
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
