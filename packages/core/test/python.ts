/** Runs the real Python (the interpreter vdirsyncer is installed for) for cross-checks; fails loudly without it. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export const PYTHON = "/usr/bin/python3";

/** Runs `script` with `input` as JSON on stdin and returns its JSON stdout. */
export function runPython<T>(script: string, input: unknown): T {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: the cross-check against Python cannot run`);
  const out = execFileSync(PYTHON, ["-c", script], { input: JSON.stringify(input), maxBuffer: 1 << 28 });
  return JSON.parse(out.toString("utf8")) as T;
}

/** Runs a Python snippet with `args` as `sys.argv[1:]`; returns its stdout. */
export function python(script: string, ...args: string[]): string {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: the cross-check against Python cannot run`);
  return execFileSync(PYTHON, ["-c", script, ...args], { encoding: "utf8" });
}
