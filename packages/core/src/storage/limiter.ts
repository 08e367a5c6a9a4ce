import { StoppedError } from "../errors.ts";

/**
 * A counting semaphore whose limit is read again at every hand-over, so that a storage can lower it at run time.
 * Waiters are served in arrival order; a slot goes straight from the call that frees it to the next waiter.
 */
export class Limiter {
  readonly #limit: () => number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: () => number) {
    this.#limit = limit;
  }

  /** Calls holding a slot now. */
  get running(): number {
    return this.#running;
  }

  /**
   * Waits for a free slot and takes it; the returned function gives it back (calling it twice is harmless).
   * @throws {StoppedError} `signal` aborted before a slot was free
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw stopped(signal);
    if (this.#waiting.length === 0 && this.#running < this.#current()) {
      this.#running++;
    } else {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.#waiting.indexOf(wake);
          if (i !== -1) this.#waiting.splice(i, 1);
          reject(stopped(signal));
        };
        // Called by #handOver with the slot already counted for this waiter.
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        this.#waiting.push(wake);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#handOver();
    };
  }

  #current(): number {
    const limit = this.#limit();
    return Number.isFinite(limit) && limit >= 1 ? Math.floor(limit) : 1;
  }

  #handOver(): void {
    while (this.#waiting.length > 0 && this.#running < this.#current()) {
      this.#running++;
      (this.#waiting.shift() as () => void)();
    }
  }
}

function stopped(signal: AbortSignal | undefined): StoppedError {
  return new StoppedError("Stopped before the call could start.", { cause: signal?.reason });
}
