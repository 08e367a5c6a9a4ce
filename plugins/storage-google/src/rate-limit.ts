/**
 * A client-side request rate limit. Google allows 600 requests per minute per user and project (a sliding
 * window; spec/dav.md, Google facts) and answers 403 `usageLimits` or 429 beyond it: staying under the quota is
 * cheaper than backing off after it.
 */

/** Settings of a {@link TokenBucket}. */
export interface RateLimit {
  /** Sustained requests per second. @default 8 (480 per minute, under Google's 600) */
  perSecond: number;
  /** Requests that may go at once after a quiet spell. @default 20 */
  burst: number;
}

/** The default limit: at most 20 + 8 × 60 = 500 requests in any minute. */
export const DEFAULT_RATE_LIMIT: Readonly<RateLimit> = Object.freeze({ perSecond: 8, burst: 20 });

/**
 * A token bucket: `burst` tokens, refilled at `perSecond`; every request takes one and waits for it.
 *
 * MUST hand out tokens in call order (first come, first served), so no request starves.
 */
export class TokenBucket {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #updated: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    limit: RateLimit = DEFAULT_RATE_LIMIT,
    now: () => number = () => performance.now(),
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) {
      throw new RangeError("A rate limit needs perSecond > 0 and burst >= 1.");
    }
    this.#limit = limit;
    this.#now = now;
    this.#sleep = sleep;
    this.#tokens = limit.burst;
    this.#updated = now();
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#limit.burst,
      this.#tokens + ((now - this.#updated) / 1000) * this.#limit.perSecond,
    );
    this.#updated = now;
  }

  /** Waits until a request may be sent, and takes its token. */
  take(): Promise<void> {
    const turn = this.#queue.then(async () => {
      this.#refill();
      while (this.#tokens < 1) {
        await this.#sleep(((1 - this.#tokens) / this.#limit.perSecond) * 1000);
        this.#refill();
      }
      this.#tokens -= 1;
    });
    this.#queue = turn;
    return turn;
  }
}

const buckets = new Map<string, TokenBucket>();

/** The bucket of one Google user (one token file) in this process, shared by all its storages. */
export function sharedBucket(key: string, limit: RateLimit = DEFAULT_RATE_LIMIT): TokenBucket {
  const id = `${key}\0${limit.perSecond}\0${limit.burst}`;
  let bucket = buckets.get(id);
  if (bucket === undefined) {
    bucket = new TokenBucket(limit);
    buckets.set(id, bucket);
  }
  return bucket;
}
