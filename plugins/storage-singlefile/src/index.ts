import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { CollectionNotFoundError, defineStorage, UserError } from "@vdirsyncer/core";
import { z } from "zod";
import { findCodec, SUPPORTED_ENCODINGS } from "./codec.ts";
import { collectionFile, createCollectionFile, expandPath, findCollectionFiles } from "./collection-paths.ts";
import { SingleFileCollection } from "./single-file.ts";

/** The options of `[storage NAME]` with `type = "singlefile"`, spelled as in the config file. Unknown keys are refused. */
export const SingleFileOptions = z.strictObject({
  /** The `.ics`/`.vcf` file; with collections it holds exactly one `%s`, replaced by the collection name. */
  path: z.string().min(1),
  /** The file's text encoding. @default "utf-8" */
  encoding: z
    .string()
    .default("utf-8")
    .refine((encoding) => findCodec(encoding) !== undefined, {
      message: `Unsupported encoding; use one of ${SUPPORTED_ENCODINGS.join(", ")}.`,
    }),
});

/**
 * `type = "singlefile"`: a whole collection in one `.ics` or `.vcf` file.
 *
 * Items are addressed as vdirsyncer addresses them (`href` = ident, `etag` = content hash), and the file is written
 * in vdirsyncer's joined form, so an existing status stays valid. Unlike vdirsyncer it reads the file once per
 * sync, writes it only at `flush()` and only when something changed, and keeps items with duplicate UIDs.
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
  },
  options: SingleFileOptions,
  create: (options, ctx) => {
    const path = expandPath(options.path);
    const codec = findCodec(options.encoding);
    // The schema already refused unknown encodings; this only guards callers that skip validation.
    if (codec === undefined) throw new UserError(`Unsupported encoding: ${options.encoding}`);
    return {
      open: async (collection) => {
        const file = collection === null ? path : collection.href;
        const info = await stat(file).catch(() => undefined);
        if (info === undefined) {
          throw new CollectionNotFoundError(file, { message: `File ${file} does not exist.` });
        }
        if (!info.isFile()) throw new UserError(`${file} is not a file.`);
        return new SingleFileCollection({ path: file, codec, log: ctx.log });
      },
      discover: () => findCollectionFiles(path),
      createCollection: async (id) => {
        const file = id === null ? path : collectionFile(path, id);
        await createCollectionFile(file);
        // Like the filesystem storage, a null collection is named after its location.
        return { id: id ?? basename(file), href: file, config: { path: file } };
      },
    };
  },
});

export { SingleFileCollection } from "./single-file.ts";
export default singlefile;
