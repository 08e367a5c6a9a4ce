/**
 * The progress display: one line per running collection (`cal/work  37/120`), redrawn in place on a terminal.
 * The log writer clears it before each log line and draws it again afterwards, so log lines are never garbled.
 */
import type { OutputStream } from "./io.ts";
import { printable } from "./output.ts";

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
    const columns = this.#stream.columns;
    // A terminal that reports no width (or 0 columns) gets whole lines: a count is never cut.
    const width = columns !== undefined && columns > 0 ? columns - 1 : undefined;
    const names = [...this.#entries.keys()].map(printable);
    const pad = Math.min(40, Math.max(...names.map((n) => n.length)));
    let text = "";
    let i = 0;
    for (const { done, total } of this.#entries.values()) {
      const count = total === undefined ? "listing…" : `${done}/${total}`;
      text += `${progressLine(names[i++] as string, pad, count, width)}\n`;
    }
    this.#stream.write(text);
    this.#drawn = this.#entries.size;
    this.#lastDraw = Date.now();
  }
}

/**
 * One line of the display: the name padded to `pad`, two spaces, the count. When the line is wider than `width`,
 * the name is shortened (ending in `…`), never the count; a count alone wider than `width` is printed whole.
 */
export function progressLine(name: string, pad: number, count: string, width: number | undefined): string {
  const line = `${name.padEnd(pad)}  ${count}`;
  if (width === undefined || line.length <= width) return line;
  const room = width - count.length - 2;
  if (room < 2) return count;
  const short = name.length > room ? `${name.slice(0, room - 1)}…` : name;
  return `${short.padEnd(room)}  ${count}`;
}
