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
 * Parses a `-v/--verbosity` value, case-insensitively.
 * @returns the level, or `undefined` when the value is none of {@link LEVELS}
 */
export function parseLevel(value: string): Level | undefined {
  const upper = value.toUpperCase();
  return (LEVELS as readonly string[]).includes(upper) ? (upper as Level) : undefined;
}

/** The log of one run: levels, prefixes, colours on a terminal, and the progress display kept intact. */
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
    const lines = message.split("\n").map((line) => {
      if (prefix === "") return line;
      return this.#colour ? `${COLOUR[level]}${prefix}\x1b[0m${line}` : `${prefix}${line}`;
    });
    this.write(`${lines.join("\n")}\n`);
  }

  /** Writes raw text to stderr, keeping the progress display intact. */
  write(text: string): void {
    this.progress?.clear();
    this.#stream.write(text);
    this.progress?.restore();
  }

  /** Prints `hint: <text>` when messages of `level` are printed (it belongs to a message of that level). */
  hint(level: Level, text: string | undefined): void {
    if (text === undefined || text === "" || !this.enabled(level)) return;
    this.write(`${this.#colour ? "\x1b[2m" : ""}hint: ${text}${this.#colour ? "\x1b[0m" : ""}\n`);
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
