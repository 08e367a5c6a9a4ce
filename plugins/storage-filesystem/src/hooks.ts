/**
 * `post_hook` and `pre_deletion_hook`: external programs run with the item's file as their only argument.
 */
import { execFile } from "node:child_process";
import type { Logger } from "@vdirsyncer/core";

/**
 * Runs `[hook, path]` without a shell and waits for it. vdirsyncer semantics: a hook that cannot start is a
 * warning, and its exit status is ignored.
 */
export async function runHook(log: Logger, name: string, hook: string | null, path: string): Promise<void> {
  if (hook === null) return;
  log.info(`Calling ${name}=${hook} with argument=${path}`);
  await new Promise<void>((resolve) => {
    execFile(hook, [path], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as { code?: unknown }).code === "string") {
        log.warn(`Error executing external hook: ${err.message}`);
      } else if (err) {
        log.debug(`${name} ${hook} exited with status ${String((err as { code?: unknown }).code)}.`);
      }
      if (stdout) log.debug(`${name} output: ${stdout.trimEnd()}`);
      if (stderr) log.debug(`${name} errors: ${stderr.trimEnd()}`);
      resolve();
    });
  });
}
