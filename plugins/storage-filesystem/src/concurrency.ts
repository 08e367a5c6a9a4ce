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
