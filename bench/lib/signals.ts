// One Ctrl-C reaches a benchmark run by `npm run` more than once: the terminal signals the
// whole process group, and npm and the tsx wrapper pass the signal on again. withProcesses
// (processes.ts) handles the first one and stops everything; a repeat arriving while it
// does would find no listener, and tsx then ends the process at once, leaving temporary
// directories (and, on a slow stop, children) behind. This keeps a listener that ignores
// repeats for as long as `body` runs.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function ignoringRepeatedSignals<T>(body: () => Promise<T>): Promise<T> {
  const ignore = () => {};
  for (const s of SIGNALS) process.on(s, ignore);
  try {
    return await body();
  } finally {
    for (const s of SIGNALS) process.off(s, ignore);
  }
}
