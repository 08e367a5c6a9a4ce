/**
 * `filter_hook`: each item's text goes to a command on stdin, and its stdout replaces the item (vdirsyncer 0.20).
 */
import { spawn } from "node:child_process";
import type { Logger } from "@vdirsyncer/core";

/** Commands running at once: a 10k-event feed should not wait for 10k processes one after the other. */
const CONCURRENCY = 4;

type HookResult =
  | { kind: "output"; stdout: string; exitCode: number | null }
  | { kind: "failed"; error: Error };

function runOnce(command: string, input: string): Promise<HookResult> {
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      // As vdirsyncer: `[filter_hook]`, no shell, so the value is one program path.
      child = spawn(command, [], { stdio: ["pipe", "pipe", "inherit"] });
    } catch (error) {
      resolve({ kind: "failed", error: error as Error });
      return;
    }
    const chunks: Buffer[] = [];
    let failed = false;
    child.on("error", (error) => {
      failed = true;
      resolve({ kind: "failed", error });
    });
    child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("close", (code) => {
      if (!failed)
        resolve({ kind: "output", stdout: Buffer.concat(chunks).toString("utf8"), exitCode: code });
    });
    // A hook that exits without reading its input makes the write fail with EPIPE; its output still counts.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input, "utf8");
  });
}

/**
 * Runs `command` once per text, a few at a time, and returns the outputs in input order.
 *
 * MUST keep a text unchanged, with one warning per listing, when the command cannot be started (vdirsyncer logs
 * `Error executing external command`), and MUST use the output of a command that exits non-zero as it is
 * (vdirsyncer ignores the status), warning once how many did. An empty or blank output means "drop this item":
 * the caller skips it.
 */
export async function runFilterHook(
  command: string,
  texts: readonly string[],
  log: Logger,
): Promise<string[]> {
  const out: string[] = new Array(texts.length);
  let startError: Error | undefined;
  let nonZero = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < texts.length; i = next++) {
      const input = texts[i] as string;
      const result = await runOnce(command, input);
      if (result.kind === "failed") {
        startError ??= result.error;
        out[i] = input;
      } else {
        if (result.exitCode !== 0) nonZero++;
        out[i] = result.stdout;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, texts.length) }, worker));
  if (startError) {
    log.warn(
      `Error executing external command: ${startError.message}. The filter_hook ${command} could not be ` +
        "started, so the items are kept as the feed has them.",
    );
  }
  if (nonZero > 0) {
    log.warn(
      `The filter_hook ${command} exited with a non-zero status for ${nonZero} item(s); ` +
        "its output was used as it is, as vdirsyncer does.",
    );
  }
  return out;
}
