/**
 * Where the command reads and writes: the process's streams by default, buffers in tests.
 */
import type { Readable, Writable } from "node:stream";

/** A writable stream that may be a terminal. */
export type OutputStream = Writable & { isTTY?: boolean; columns?: number };

/** The environment one run of the command sees. */
export interface CliIO {
  env: Record<string, string | undefined>;
  /** The working directory: relative `-c` paths and storage paths are resolved against it. */
  cwd: string;
  stdin: Readable;
  stdout: OutputStream;
  stderr: OutputStream;
}

/** The real process's environment, working directory and streams. */
export function processIO(): CliIO {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  };
}
