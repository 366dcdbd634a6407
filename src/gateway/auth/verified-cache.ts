// Successful credential checks kept for a short while, so a hot client pays for a signature
// check or a bcrypt comparison once, not on every request. Entries are keyed by a digest of
// the credential (never the credential itself), bounded in number (the oldest goes first)
// and each kept until its own deadline. Failures are never kept: a corrected credential
// works on the next request. Concurrent checks of one credential share a single run,
// because right after a config swap every hot client misses at once.
import { createHash } from 'node:crypto';
import type { Refusal } from '../errors.ts';

/** The outcome of checking a credential: what it identifies and until when that may be
 * remembered (epoch milliseconds), or why it is refused. */
export type Verdict<V> = { ok: true; value: V; until: number } | { ok: false; refusal: Refusal };

/** How long a successful check is remembered at most. */
export const VERIFIED_KEPT_MS = 60_000;
const MAX_ENTRIES = 10_000;

export class VerifiedCache<V> {
  private readonly kept = new Map<string, { value: V; until: number }>();
  private readonly running = new Map<string, Promise<Verdict<V>>>();

  constructor(
    private readonly now: () => number,
    private readonly maxEntries = MAX_ENTRIES,
  ) {}

  /** What the credential with digest `key` identified, while still remembered. */
  get(key: string): V | undefined {
    const entry = this.kept.get(key);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.value;
    this.kept.delete(key);
    return undefined;
  }

  /** Runs `check` for the credential with digest `key`, unless a check of it is already
   * running, whose verdict is then shared; remembers a success until its deadline. */
  verify(key: string, check: () => Promise<Verdict<V>>): Promise<Verdict<V>> {
    const running = this.running.get(key);
    if (running) return running;
    const verdict = check()
      .then((v) => {
        if (v.ok && v.until > this.now()) this.keep(key, v.value, v.until);
        return v;
      })
      .finally(() => this.running.delete(key));
    this.running.set(key, verdict);
    return verdict;
  }

  private keep(key: string, value: V, until: number): void {
    this.kept.delete(key);
    if (this.kept.size >= this.maxEntries) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(key, { value, until });
  }
}

/** The cache key of a credential: SHA-256, so memory holds no tokens or passwords. */
export function credentialDigest(credential: string): string {
  return createHash('sha256').update(credential).digest('base64url');
}
