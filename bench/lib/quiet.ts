// Waiting for a process to go idle, from its CPU time in /proc: a controller keeps working
// after its status says Ready (queued follow-up reconciles, informer events of its own
// writes), and a timed operation started while it is still busy would measure both.
import { cpuSeconds } from './proc.ts';

export interface QuietOptions {
  /** Idle means using at most this share of one core over `windowMs`. */
  maxShare: number;
  windowMs: number;
  timeoutMs: number;
}

/** Resolves with the milliseconds waited once `pid` used at most `maxShare` of a core over
 * one window, or with undefined when it was still busy after `timeoutMs`. */
export async function waitUntilQuiet(pid: number, options: QuietOptions): Promise<number | undefined> {
  const started = performance.now();
  for (;;) {
    const before = cpuSeconds(pid);
    await new Promise((resolve) => setTimeout(resolve, options.windowMs));
    const share = (cpuSeconds(pid) - before) / (options.windowMs / 1000);
    const waited = performance.now() - started;
    if (share <= options.maxShare) return waited;
    if (waited > options.timeoutMs) return undefined;
  }
}
