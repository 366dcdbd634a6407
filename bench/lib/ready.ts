// Waiting for the servers a benchmark starts: a free port to give one, and polling until it
// answers (failing at once if its process died instead).
import { createServer } from 'node:net';
import type { Child, Processes } from './processes.ts';

/** A port free on 127.0.0.1 now (the OS picks it); the caller binds it right after. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Calls `check` every 100 ms until it resolves; fails when `child` dies or `timeoutMs` passes. */
export async function pollUntil(
  processes: Processes,
  child: Child,
  check: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    processes.assertAlive(child);
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${child.name}: not ready after ${timeoutMs} ms: ${(err as Error).message}\n${child.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
