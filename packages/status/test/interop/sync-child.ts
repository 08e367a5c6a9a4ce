/**
 * Run as a separate Node process by killed-sync.test.ts: syncs the `cal` pair of the vdir config in the folder
 * given as the first argument, printing each INFO line as it happens so the parent can kill it mid-run.
 */
import { syncPair } from "./pair.ts";
import { vdirConfig } from "./vdirs.ts";

const root = process.argv[2];
if (root === undefined) throw new Error("usage: sync-child.ts <root>");
// Pipes to a parent are written synchronously on Linux, so every printed line was logged before the next action.
await syncPair({
  root,
  config: vdirConfig(),
  pair: "cal",
  onInfo: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write("done\n");
