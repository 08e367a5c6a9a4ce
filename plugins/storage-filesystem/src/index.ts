/**
 * `@vdirsyncer/storage-filesystem`: the `filesystem` storage type, which syncs vdirs (one folder per collection,
 * one file per item).
 */
import { defineStorage } from "@vdirsyncer/core";
import { FilesystemOptions } from "./options.ts";
import { findVdirs, makeVdir, openVdir } from "./vdir.ts";

export { FilesystemOptions } from "./options.ts";
export { etagOf, VdirCollection } from "./vdir.ts";

/**
 * The `filesystem` storage: a vdir, or a folder of vdirs with one collection per subfolder.
 *
 * hrefs are file names and etags are `"<mtime ns>;<inode>"`, both byte-identical to vdirsyncer's, so a status
 * written by vdirsyncer continues without downloading anything again.
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
  },
  options: FilesystemOptions,
  create: (options, ctx) => ({
    open: (collection) => openVdir(collection?.href ?? options.path, options, ctx),
    discover: () => findVdirs(options.path),
    createCollection: (id) => makeVdir(options.path, id),
  }),
});

export default filesystem;
