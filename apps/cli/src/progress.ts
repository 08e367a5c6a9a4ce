/**
 * The progress display: one line per running collection (`cal/work  37/120`), redrawn in place on a terminal.
 * The log writer clears it before each log line and draws it again afterwards, so log lines are never garbled.
 */
import type { OutputStream } from "./io.ts";

/** Redraws are at most this often, except when a collection starts or ends. */
const MIN_REDRAW_MS = 80;

/** A display of the collections being synced and how far each got. */
export class Progress {
  readonly #stream: OutputStream;
  readonly #entries = new Map<string, { done: number; total: number | undefined }>();
  #drawn = 0;
  #lastDraw = 0;

  constructor(stream: OutputStream) {
    this.#stream = stream;
  }

  /** Shows `name` with no known total yet. */
  start(name: string): void {
    this.#entries.set(name, { done: 0, total: undefined });
    this.#redraw(true);
  }

  /** Sets how many of `total` actions of `name` are done. */
  update(name: string, done: number, total: number): void {
    const entry = this.#entries.get(name);
    if (!entry) return;
    entry.done = done;
    entry.total = total;
    this.#redraw(done === total);
  }

  /** Removes `name` from the display. */
  end(name: string): void {
    if (this.#entries.delete(name)) this.#redraw(true);
  }

  /** Erases the display; the next {@link restore} draws it again. */
  clear(): void {
    if (this.#drawn === 0) return;
    // Back to the first drawn line, column 1, then erase to the end of the screen.
    this.#stream.write(`\x1b[${this.#drawn}F\x1b[J`);
    this.#drawn = 0;
  }

  /** Draws the display after a {@link clear}. */
  restore(): void {
    this.#draw();
  }

  #redraw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.#lastDraw < MIN_REDRAW_MS) return;
    this.clear();
    this.#draw();
  }

  #draw(): void {
    if (this.#drawn > 0 || this.#entries.size === 0) return;
    const width = Math.max(20, (this.#stream.columns ?? 80) - 1);
    const names = [...this.#entries.keys()];
    const pad = Math.min(40, Math.max(...names.map((n) => n.length)));
    let text = "";
    for (const [name, { done, total }] of this.#entries) {
      const count = total === undefined ? "listing…" : `${done}/${total}`;
      text += `${`${name.padEnd(pad)}  ${count}`.slice(0, width)}\n`;
    }
    this.#stream.write(text);
    this.#drawn = this.#entries.size;
    this.#lastDraw = Date.now();
  }
}
