// Sends one notification request through undici: each attempt bounded by the Provider's
// timeout; a connection failure, a timeout, a 429 or a 5xx is tried again after an exponential
// backoff (Flux's: 4 retries, 2 s doubling up to 30 s), any other answer is final. Errors name
// the receiver's host only: a webhook URL may carry its key in the path.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { OutgoingRequest } from './request.ts';

export type DeliveryErrorCode =
  /** The receiver answered with a status other than 2xx, not worth retrying (4xx but 429). */
  | 'NOTIFICATION_REFUSED'
  /** Every attempt failed to connect, timed out, or was answered 429 or 5xx. */
  | 'NOTIFICATION_UNDELIVERED';

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    readonly code: DeliveryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  /** Wait before the first retry; doubles per retry up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 2_000, maxDelayMs: 30_000 };

export interface DeliveryOptions {
  timeoutMs: number;
  retry: RetryPolicy;
  /** PEM of the CA the receiver's certificate is checked against, besides Node's. */
  ca?: string;
  /** Ends the waits between attempts (the controller stopping). */
  signal?: AbortSignal;
}

/** Resolves with the number of attempts it took; rejects with a DeliveryError. */
export async function deliver(req: OutgoingRequest, options: DeliveryOptions): Promise<number> {
  const { retry } = options;
  const agent = options.ca ? new Agent({ connect: { ca: options.ca } }) : undefined;
  const host = req.url.host;
  try {
    for (let attempt = 1; ; attempt++) {
      let failure: string;
      try {
        const response = await request(req.url, {
          method: 'POST',
          headers: req.headers,
          body: req.body,
          signal: AbortSignal.timeout(options.timeoutMs),
          ...(agent ? { dispatcher: agent } : {}),
        });
        await response.body.dump();
        const status = response.statusCode;
        if (status >= 200 && status < 300) return attempt;
        if (status !== 429 && status < 500)
          throw new DeliveryError('NOTIFICATION_REFUSED', `${host} answered ${status}`);
        failure = `${host} answered ${status}`;
      } catch (err) {
        if (err instanceof DeliveryError) throw err;
        const e = err as Error & { code?: string };
        failure =
          e.name === 'TimeoutError'
            ? `${host} did not answer within ${options.timeoutMs} ms`
            : `${host}: ${e.code ?? e.name}`;
      }
      if (attempt > retry.retries || options.signal?.aborted)
        throw new DeliveryError('NOTIFICATION_UNDELIVERED', `${failure} (${attempt} attempts)`);
      const delay = Math.min(retry.baseDelayMs * 2 ** (attempt - 1), retry.maxDelayMs);
      // An abort (the controller stopping) ends the wait; the attempt after it is the last.
      await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
    }
  } finally {
    await agent?.close();
  }
}
