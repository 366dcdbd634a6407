// Retries an assertion until it passes or a bounded number of attempts is spent: for
// state that converges asynchronously (watch-driven caches, config swaps). The default bound,
// 20 s, is generous on purpose: a passing check returns at once, and the suite runs on machines
// loaded by other work, where a watch that usually delivers in milliseconds can take seconds.
export async function eventually<T>(check: () => T | Promise<T>, { attempts = 400, intervalMs = 50 } = {}): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await check();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
