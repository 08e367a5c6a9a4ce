/** Waiting between attempts: `Retry-After`, abortable sleeps, and the error codes that decide a retry. */

/** Methods that change nothing on the server, so a retry after a timeout or 5xx is harmless. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "PROPFIND", "REPORT", "OPTIONS"]);

/** Network error codes that mean the request never left this machine: retrying is harmless for any method. */
export const NOT_SENT: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `Retry-After` as milliseconds (delta seconds or an HTTP date), `undefined` when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The first string `code` along an error's cause chain (Node and undici put the system code a level down). */
export function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 5 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A counting semaphore. */
export class Semaphore {
  #active = 0;
  #waiting: (() => void)[] = [];
  readonly #max: number;
  constructor(max: number) {
    this.#max = Math.max(1, max);
  }
  async acquire(): Promise<void> {
    if (this.#active < this.#max) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }
}
