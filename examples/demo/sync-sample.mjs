#!/usr/bin/env node
// Syncs the bundled sample calendar (one .ics file, read-only) into a vdir, with the built packages and a real
// status directory, and prints vdirsyncer's log lines. Run it twice: the second run has nothing to do.
//
//   node examples/demo/sync-sample.mjs [output folder]     (default: ./demo)
//
// The `vdirsyncer` command itself arrives with the CLI; this is the same engine wired by hand.
import { readdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isVdirsyncerError, syncCollection } from "@vdirsyncer/core";
import { createDiskTrash, lockPair, openCollectionStatus } from "@vdirsyncer/status";
import filesystem from "@vdirsyncer/storage-filesystem";
import singlefile from "@vdirsyncer/storage-singlefile";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? "demo");
const log = {
  debug() {},
  info: (m) => console.error(m),
  warn: (m) => console.error(`warning: ${m}`),
  error: (m) => console.error(`error: ${m}`),
};

/** Validates raw options with the plugin's schema and builds the storage, as the CLI will. */
async function create(definition, instance, raw) {
  const result = await definition.options["~standard"].validate(raw);
  if (result.issues) {
    throw new Error(
      `${instance}: ${result.issues.map((i) => `${i.path?.join(".") ?? ""} ${i.message}`).join("; ")}`,
    );
  }
  return definition.create(result.value, { instance, log, fetch, signal: AbortSignal.timeout(60_000) });
}

const pair = "demo";
const statusPath = join(out, "status");
const sample = await create(singlefile, "sample_ics", { path: join(here, "sample.ics") });
const vdirs = await create(filesystem, "demo_vdir", { path: join(out, "calendars"), fileext: ".ics" });
const target = await vdirs.createCollection("sample");

const lock = await lockPair(statusPath, pair);
try {
  console.error(`Syncing ${pair}/sample`);
  const status = openCollectionStatus(statusPath, pair, "sample", { log });
  const report = await syncCollection({
    a: { name: "sample_ics", collection: await sample.open(null), readOnly: true },
    b: { name: "demo_vdir/sample", collection: await vdirs.open(target) },
    status,
    trash: createDiskTrash(statusPath, pair, "sample"),
    partialSync: "revert",
    log,
    onError: (err) =>
      console.error(`error: ${pair}/sample: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ""}`),
  });
  status.close?.();
  const files = (await readdir(target.href)).filter((f) => f.endsWith(".ics")).sort();
  console.error(
    `\n${report.applied} change(s) applied; the vdir ${target.href} holds ${files.length} items:\n` +
      files.map((f) => `  ${f}`).join("\n"),
  );
  if (report.applied === 0) console.error("(nothing to do: everything was already in sync)");
  process.exitCode = report.errors.length > 0 ? 1 : 0;
} catch (err) {
  console.error(isVdirsyncerError(err) ? `error: ${err.message}` : err);
  process.exitCode = 1;
} finally {
  await lock.release();
}
