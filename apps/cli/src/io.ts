/**
 * Where the command reads and writes: the process's streams by default, buffers in tests.
 */
import type { Readable, Writable } from "node:stream";

/** A writable stream that may be a terminal. */
export type OutputStream = Writable & { isTTY?: boolean; columns?: number };

/** Where SIGINT and SIGTERM come from: the process, or nothing (a library caller, in-process tests). */
export interface SignalSource {
  on(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown;
  off(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown;
}

/** The environment one run of the command sees. */
export interface CliIO {
  env: Record<string, string | undefined>;
  /** The working directory: relative `-c` paths and storage paths are resolved against it. */
  cwd: string;
  stdin: Readable;
  stdout: OutputStream;
  stderr: OutputStream;
  /** Signals that stop the run gracefully (first) or at once (second); none when `undefined`. */
  signals?: SignalSource;
}

/** The real process's environment, working directory and streams. */
export function processIO(): CliIO {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    signals: process,
  };
}
