/**
 * The command's log: everything goes to stderr (vdirsyncer 0.16.5), INFO lines without a prefix, the other
 * levels with `debug: `, `warning: `, `error: `, `critical: ` on every line, as click-log prints them.
 */
import type { Logger } from "@vdirsyncer/core";
import type { OutputStream } from "./io.ts";
import type { Progress } from "./progress.ts";

/** vdirsyncer's verbosity levels, most severe first. */
export const LEVELS = ["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"] as const;

/** One of {@link LEVELS}. */
export type Level = (typeof LEVELS)[number];

const RANK: Record<Level, number> = { CRITICAL: 50, ERROR: 40, WARNING: 30, INFO: 20, DEBUG: 10 };
const PREFIX: Record<Level, string> = {
  CRITICAL: "critical: ",
  ERROR: "error: ",
  WARNING: "warning: ",
  INFO: "",
  DEBUG: "debug: ",
};
// click-log's colours: red for errors, yellow for warnings, blue for debug.
const COLOUR: Record<Level, string> = {
  CRITICAL: "\x1b[31m",
  ERROR: "\x1b[31m",
  WARNING: "\x1b[33m",
  INFO: "",
  DEBUG: "\x1b[34m",
};

/**
 * Characters that must never reach a terminal raw: C0 controls but tab and newline (ESC starts escape sequences,
 * BEL ends a window title, CR overwrites a line), DEL, the C1 controls (U+009B is CSI, U+009D is OSC), and the
 * bidirectional overrides and isolates that make a name read differently from what it is.
 */
const UNPRINTABLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` safe to print on a terminal: every character of {@link UNPRINTABLE} is shown as its escape (`\x1b`,
 * `\u202e`), so a UID, href or server message can neither move the cursor, retitle the window nor reorder the
 * line, and two names that differ only in such characters still print differently. Newlines and tabs stay.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
  });
}

/**
 * Whether the log is coloured: only on a terminal, not for `TERM=dumb`, and not when `NO_COLOR` is set to a
 * non-empty value (https://no-color.org: an empty `NO_COLOR` does not count).
 */
export function wantsColour(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  if (stream.isTTY !== true) return false;
  if (env.TERM === "dumb") return false;
  return env.NO_COLOR === undefined || env.NO_COLOR === "";
}

/**
 * Parses a `-v/--verbosity` value, case-insensitively.
 * @returns the level, or `undefined` when the value is none of {@link LEVELS}
 */
export function parseLevel(value: string): Level | undefined {
  const upper = value.toUpperCase();
  return (LEVELS as readonly string[]).includes(upper) ? (upper as Level) : undefined;
}

/**
 * The log of one run: levels, prefixes, colours on a terminal, and the progress display kept intact. Every text
 * goes through {@link printable} here, once, so that nothing an item, a file name or a server said reaches the
 * terminal raw, whichever command printed it.
 */
export class Output implements Logger {
  readonly level: Level;
  readonly #stream: OutputStream;
  readonly #colour: boolean;
  /** Set while a progress display is on screen; log lines clear it first. */
  progress: Progress | undefined;

  constructor(stream: OutputStream, level: Level, options: { colour?: boolean } = {}) {
    this.#stream = stream;
    this.level = level;
    this.#colour = options.colour ?? false;
  }

  /** True when messages of `level` are printed. */
  enabled(level: Level): boolean {
    return RANK[level] >= RANK[this.level];
  }

  /** Prints `message` at `level`, prefixing every line. */
  log(level: Level, message: string): void {
    if (!this.enabled(level)) return;
    const prefix = PREFIX[level];
    const lines = printable(message)
      .split("\n")
      .map((line) => {
        if (prefix === "") return line;
        return this.#colour ? `${COLOUR[level]}${prefix}\x1b[0m${line}` : `${prefix}${line}`;
      });
    this.#emit(`${lines.join("\n")}\n`);
  }

  /** Writes text to stderr as it is (a prompt, say), control characters escaped, keeping the progress display intact. */
  write(text: string): void {
    this.#emit(printable(text));
  }

  /** Writes text that is already printable (our own colours included). */
  #emit(text: string): void {
    this.progress?.clear();
    this.#stream.write(text);
    this.progress?.restore();
  }

  /** Prints `hint: <text>` when messages of `level` are printed (it belongs to a message of that level). */
  hint(level: Level, text: string | undefined): void {
    if (text === undefined || text === "" || !this.enabled(level)) return;
    this.#emit(`${this.#colour ? "\x1b[2m" : ""}hint: ${printable(text)}${this.#colour ? "\x1b[0m" : ""}\n`);
  }

  debug(message: string): void {
    this.log("DEBUG", message);
  }
  info(message: string): void {
    this.log("INFO", message);
  }
  warn(message: string): void {
    this.log("WARNING", message);
  }
  error(message: string): void {
    this.log("ERROR", message);
  }
  critical(message: string): void {
    this.log("CRITICAL", message);
  }
}
