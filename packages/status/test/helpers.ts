import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@vdirsyncer/core";
import { afterEach } from "vitest";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under the system temp dir, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "vdirsyncer-status-"));
  dirs.push(d);
  return d;
}

/** A logger that keeps what it is told. */
export function collectingLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
}

/** The interpreter vdirsyncer is installed for (a python3 earlier on PATH may lack it). */
export const PYTHON = "/usr/bin/python3";

/** Runs a Python snippet with the installed vdirsyncer importable; returns its stdout. */
export function python(script: string, ...args: string[]): string {
  return execFileSync(PYTHON, ["-c", script, ...args], { encoding: "utf8" });
}

/** The first line a child process prints (chunks may split it anywhere); the stream stays open. */
export function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const nl = text.indexOf("\n");
      if (nl < 0) return;
      stream.off("data", onData);
      // Keep draining, so the child never blocks or fails on a full pipe.
      stream.on("data", () => {});
      resolve(text.slice(0, nl));
    };
    stream.on("data", onData);
    stream.once("error", reject);
    stream.once("end", () => resolve(text));
  });
}
