// Syncs two vdirs (collections = null) the way `vdirsyncer sync` does for one pair: what local-sync.mjs times.
// Usage: node sync-pair.mjs <a dir> <b dir> <status dir>
import { syncCollection } from "@vdirsyncer/core";
import { createDiskTrash, lockPair, openCollectionStatus } from "@vdirsyncer/status";
import filesystem from "@vdirsyncer/storage-filesystem";

const [a, b, statusPath] = process.argv.slice(2);
const log = {
  debug() {},
  info: (m) => console.error(m),
  warn: (m) => console.error(`warning: ${m}`),
  error: (m) => console.error(`error: ${m}`),
};
const ctx = (instance) => ({ instance, log, fetch, signal: new AbortController().signal });
async function open(instance, path) {
  const { value, issues } = await filesystem.options["~standard"].validate({ path, fileext: ".ics" });
  if (issues) throw new Error(JSON.stringify(issues));
  return (await filesystem.create(value, ctx(instance))).open(null);
}
const lock = await lockPair(statusPath, "bench");
try {
  console.error("Syncing bench");
  const status = openCollectionStatus(statusPath, "bench", null, { log });
  const report = await syncCollection({
    a: { name: "bench_a", collection: await open("bench_a", a) },
    b: { name: "bench_b", collection: await open("bench_b", b) },
    status,
    trash: createDiskTrash(statusPath, "bench", null),
    log,
    onError: (e) => console.error(`error: ${e.message}`),
  });
  status.close?.();
  process.exitCode = report.errors.length ? 1 : 0;
} finally {
  await lock.release();
}
