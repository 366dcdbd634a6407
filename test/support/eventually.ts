// Retries an assertion until it passes or a bounded number of attempts is spent: for
// state that converges asynchronously (watch-driven caches, config swaps).
export async function eventually<T>(check: () => T | Promise<T>, { attempts = 100, intervalMs = 50 } = {}): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await check();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
