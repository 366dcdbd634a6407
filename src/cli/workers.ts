// `--workers N`: a node:cluster primary that runs N copies of a server, each a worker
// process of its own on the same ports (the primary accepts the connections and hands
// them to the workers in turn). Workers share nothing in memory: whatever they must agree
// on (the gateway's rate limit and quota counts) goes through the API server. A worker
// that dies is started again, after a pause that doubles while workers keep dying soon
// after their start. SIGINT or SIGTERM stops every worker (each drains and exits), then
// the primary.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** What a worker sends the primary once it serves. */
interface ReadyMessage {
  gatehouse: 'ready';
  details: Record<string, unknown>;
}

const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 10_000;
/** A worker that served this long resets the restart delay. */
const STABLE_AFTER_MS = 10_000;
/** Workers still running this long after SIGTERM are killed. */
const STOP_DEADLINE_MS = 30_000;

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker: tells the primary it serves, with what the primary logs. (A worker whose
 * primary dies exits at once: node:cluster's own rule.) */
export function workerReady(details: Record<string, unknown>): void {
  process.send?.({ gatehouse: 'ready', details } satisfies ReadyMessage);
}

export interface WorkerPool {
  pids(): number[];
  /** Stops every worker; resolves when all have exited. */
  stop(): Promise<void>;
}

/** In the primary: forks `count` workers (each runs this same command) and resolves once
 * every one serves, with the details of the first. A worker that exits before it serves
 * is a failure to start (a bad flag, a port in use): the others are stopped and the
 * promise rejects. */
export async function startWorkers(
  count: number,
  logger: Logger,
): Promise<{ pool: WorkerPool; details: Record<string, unknown> }> {
  let stopping = false;
  const slots = new Map<Worker, { slot: number; startedAt: number }>();
  const delays = new Array<number>(count).fill(0);

  const fork = (slot: number): Promise<Record<string, unknown>> => {
    const worker = cluster.fork();
    slots.set(worker, { slot, startedAt: Date.now() });
    return new Promise((resolve, reject) => {
      worker.on('message', (message: ReadyMessage) => {
        if (message?.gatehouse === 'ready') resolve(message.details);
      });
      worker.once('exit', (code, signal) =>
        reject(
          new Error(
            `gateway worker ${worker.process.pid} exited (${signal ?? `code ${code}`}) before it served; its log says why`,
          ),
        ),
      );
    });
  };

  const restart = (worker: Worker, code: number | null, signal: string | null) => {
    const { slot, startedAt } = slots.get(worker)!;
    slots.delete(worker);
    if (stopping) return;
    delays[slot] =
      Date.now() - startedAt >= STABLE_AFTER_MS
        ? FIRST_RESTART_DELAY_MS
        : Math.min(MAX_RESTART_DELAY_MS, Math.max(FIRST_RESTART_DELAY_MS, delays[slot] * 2));
    logger.warn(
      { worker: worker.process.pid, code, signal, restartInMs: delays[slot] },
      'gateway worker died; starting another',
    );
    setTimeout(() => {
      if (stopping) return;
      fork(slot).then(
        () => logger.info({ slot }, 'gateway worker started again'),
        (err: unknown) => logger.error({ err }, 'gateway worker failed to start again'),
      );
    }, delays[slot]);
  };

  const pool: WorkerPool = {
    pids: () => [...slots.keys()].map((w) => w.process.pid!),
    async stop() {
      stopping = true;
      const running = [...slots.keys()].filter((w) => !w.isDead());
      const exited = Promise.all(
        running.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve())))),
      );
      for (const worker of running) worker.process.kill('SIGTERM');
      const deadline = setTimeout(() => {
        logger.warn('gateway workers did not stop in time; killing them');
        for (const worker of running) if (!worker.isDead()) worker.process.kill('SIGKILL');
      }, STOP_DEADLINE_MS);
      await exited;
      clearTimeout(deadline);
    },
  };

  const started = Array.from({ length: count }, (_, slot) => fork(slot));
  try {
    const [details] = await Promise.all(started);
    cluster.on('exit', restart);
    return { pool, details };
  } catch (err) {
    await pool.stop();
    throw err;
  }
}
