/**
 * `@vdirsyncer/storage-singlefile`: the `singlefile` storage type, a whole collection in one `.ics` or `.vcf` file.
 */
import { defineStorage } from "@vdirsyncer/core";
import { codecOf, SingleFileOptions } from "./options.ts";
import { SingleFileStorage } from "./storage.ts";

export { SingleFileOptions } from "./options.ts";
export { SingleFileCollection } from "./single-file.ts";
export { SingleFileStorage } from "./storage.ts";

/**
 * `type = "singlefile"`: a whole collection in one `.ics` or `.vcf` file.
 *
 * Items are addressed as vdirsyncer addresses them (`href` = ident, `etag` = content hash), and the file is written
 * in vdirsyncer's joined form, so an existing status stays valid. Unlike vdirsyncer it reads the file once per
 * sync, writes it only at `flush()` and only when something changed, and keeps items with duplicate UIDs. Calls on
 * one file take turns inside the storage (one buffer per file and instance), so the host may run several at once.
 */
export const singlefile = defineStorage({
  type: "singlefile",
  summary: "A whole collection in one .ics or .vcf file.",
  itemKinds: ["calendar", "addressbook"],
  capabilities: {
    readOnly: false,
    discover: true,
    createCollection: true,
    metadata: [],
    ctag: false,
    syncToken: false,
    batchGet: true,
    watch: true,
    concurrency: 8,
  },
  options: SingleFileOptions,
  create: (options, ctx) => {
    codecOf(options); // the schema already refused unknown encodings; this guards callers that skip validation
    return new SingleFileStorage(options, ctx);
  },
});

export default singlefile;
