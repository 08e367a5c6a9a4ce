/**
 * `@vdirsyncer/storage-filesystem`: the `filesystem` storage type, which syncs vdirs (one folder per collection,
 * one file per item).
 */
import { defineStorage } from "@vdirsyncer/core";
import { FilesystemOptions } from "./options.ts";
import { FilesystemStorage } from "./storage.ts";

export { FilesystemOptions } from "./options.ts";
export { FilesystemStorage } from "./storage.ts";
export { etagOf, VdirCollection } from "./vdir.ts";

/**
 * The `filesystem` storage: a vdir, or a folder of vdirs with one collection per subfolder.
 *
 * hrefs are file names and etags are `"<mtime ns>;<inode>"`, both byte-identical to vdirsyncer's, so a status
 * written by vdirsyncer continues without downloading anything again. Every item is its own file, written
 * atomically, and writes of one file are serialised within an instance, so calls run in parallel safely.
 */
export const filesystem = defineStorage({
  type: "filesystem",
  summary: "A vdir: one folder per collection, one file per item.",
  itemKinds: ["calendar", "addressbook"],
  capabilities: {
    readOnly: false,
    discover: true,
    createCollection: true,
    metadata: ["displayname", "color", "description", "order"],
    ctag: false,
    syncToken: false,
    batchGet: true,
    watch: true,
    concurrency: 16,
  },
  options: FilesystemOptions,
  create: (options, ctx) => new FilesystemStorage(options, ctx),
});

export default filesystem;
