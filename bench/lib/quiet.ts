// Waiting for a process to go idle, from its CPU time in /proc: a controller keeps working
// after its status says Ready (queued follow-up reconciles, informer events of its own
// writes), and a timed operation started while it is still busy would measure both.
// "Idle" is relative to the process's own resting CPU use, measured once when it has
// nothing to do: a process under `node --cpu-prof` never rests below a few percent.
import { cpuSeconds } from './proc.ts';

export interface QuietOptions {
  /** Idle means using at most this share of one core above the resting share over `windowMs`. */
  maxShare: number;
  windowMs: number;
  timeoutMs: number;
  /** The process's resting share of a core (restingShare()); 0 when unknown. */
  resting?: number;
}

/** Share of one core `pid` uses over `windowMs`; call it when the process has nothing to do. */
export async function restingShare(pid: number, windowMs: number): Promise<number> {
  const before = cpuSeconds(pid);
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return (cpuSeconds(pid) - before) / (windowMs / 1000);
}

/** Resolves with the milliseconds waited once `pid` used at most `resting + maxShare` of a
 * core over one window, or with undefined when it was still busy after `timeoutMs`. */
export async function waitUntilQuiet(pid: number, options: QuietOptions): Promise<number | undefined> {
  const started = performance.now();
  for (;;) {
    const share = await restingShare(pid, options.windowMs);
    const waited = performance.now() - started;
    if (share <= (options.resting ?? 0) + options.maxShare) return waited;
    if (waited > options.timeoutMs) return undefined;
  }
}
