// Rate limiter state outlives config swaps: a limiter whose key and settings are unchanged
// is carried into the next config, so editing one API does not reset every bucket. Each
// compile builds a new Limiters from the previous one; limiters not asked for are dropped.
import { TokenBucket } from './rate-limit.ts';

export class Limiters {
  private readonly current = new Map<string, TokenBucket>();

  constructor(private previous?: Limiters) {}

  get(key: string, requests: number, windowMs: number): TokenBucket {
    const id = `${key}|${requests}|${windowMs}`;
    let bucket = this.current.get(id) ?? this.previous?.current.get(id);
    if (!bucket) bucket = new TokenBucket(requests, windowMs);
    this.current.set(id, bucket);
    return bucket;
  }

  /** Ends the carry-over once the config using this set is built, so old sets are freed. */
  release(): void {
    this.previous = undefined;
  }
}
