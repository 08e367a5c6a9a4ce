/**
 * Yes/no questions on the terminal (vdirsyncer uses click's `confirm`). Questions go to stderr, so that stdout
 * stays clean for `--json` and `showconfig`; answers are read line by line from stdin.
 */
import type { Readable } from "node:stream";
import type { Output } from "./output.ts";

/** Reads stdin one line at a time, only while a line is wanted. */
export class LineReader {
  readonly #stream: Readable;
  #buffer = "";
  #ended = false;
  #waiting: ((line: string | undefined) => void) | undefined;
  readonly #onData = (chunk: Buffer | string) => {
    this.#buffer += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    this.#deliver();
  };
  readonly #onEnd = () => {
    this.#ended = true;
    this.#deliver();
  };

  constructor(stream: Readable) {
    this.#stream = stream;
  }

  /** Ends the input: a waiting question and every later one gets `undefined` (used when the run is stopped). */
  cancel(): void {
    this.#ended = true;
    this.#buffer = "";
    this.#deliver();
  }

  /** The next line without its line break, or `undefined` at the end of input. */
  next(): Promise<string | undefined> {
    return new Promise((resolve) => {
      // The end may have come while no question was waiting (nobody listened then): it would never come again.
      if (this.#stream.readableEnded) this.#ended = true;
      this.#waiting = resolve;
      this.#stream.on("data", this.#onData);
      this.#stream.on("end", this.#onEnd);
      this.#stream.resume();
      this.#deliver();
    });
  }

  #deliver(): void {
    const resolve = this.#waiting;
    if (!resolve) return;
    const newline = this.#buffer.indexOf("\n");
    let line: string | undefined;
    if (newline !== -1) {
      line = this.#buffer.slice(0, newline).replace(/\r$/, "");
      this.#buffer = this.#buffer.slice(newline + 1);
    } else if (this.#ended) {
      line = this.#buffer === "" ? undefined : this.#buffer;
      this.#buffer = "";
    } else return;
    this.#waiting = undefined;
    // Stop reading between questions: a paused stdin does not keep the process alive.
    this.#stream.off("data", this.#onData);
    this.#stream.off("end", this.#onEnd);
    this.#stream.pause();
    resolve(line);
  }
}

/**
 * Asks `question [y/N]: ` and waits for an answer; an empty answer or the end of input means "no".
 * Anything other than y/yes/n/no asks again.
 */
export async function confirm(out: Output, reader: LineReader, question: string): Promise<boolean> {
  for (;;) {
    out.write(`${question} [y/N]: `);
    const answer = await reader.next();
    if (answer === undefined) {
      out.write("\n");
      return false;
    }
    const a = answer.trim().toLowerCase();
    if (a === "y" || a === "yes") return true;
    if (a === "" || a === "n" || a === "no") return false;
    out.write("Error: invalid input\n");
  }
}
