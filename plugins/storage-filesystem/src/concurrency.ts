/**
 * Bounded concurrency for file system calls: enough in flight to hide latency on 10k-item vdirs, few enough not to
 * run out of file descriptors.
 */

/** How many files `list()` and `getMany()` stat or read at the same time. */
export const IO_CONCURRENCY = 32;

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Applies `fn` to every input with at most `limit` calls in flight and yields the results in input order.
 *
 * A rejection is rethrown when its turn comes. Calls still in flight when the consumer stops (or an error is
 * thrown) run to completion and are dropped, without unhandled rejections.
 */
export async function* mapBounded<T, R>(
  inputs: readonly T[],
  limit: number,
  fn: (input: T) => Promise<R>,
): AsyncGenerator<R> {
  const settle = (input: T): Promise<Settled<R>> =>
    fn(input).then(
      (value) => ({ ok: true, value }),
      (error: unknown) => ({ ok: false, error }),
    );
  const pending: Promise<Settled<R>>[] = [];
  let next = 0;
  while (next < inputs.length && pending.length < limit) pending.push(settle(inputs[next++]!));
  while (pending.length > 0) {
    const result = await pending.shift()!;
    if (next < inputs.length) pending.push(settle(inputs[next++]!));
    if (!result.ok) throw result.error;
    yield result.value;
  }
}

/** At most `limit` tasks at once; the others wait in order. */
export class Semaphore {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Runs `task` once a slot is free and frees the slot when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, so a newcomer cannot overtake it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

/**
 * One task at a time per key (a file path), in call order; different keys run in parallel. Keeps a check and the
 * write that depends on it (compare the etag, then replace the file) together when calls on one file overlap.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task of `key` has settled. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    // Forget the key once nothing is queued behind this task, so the map does not grow with every file ever written.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** How many keys have a task queued or running (for tests). */
  get size(): number {
    return this.#tails.size;
  }
}
