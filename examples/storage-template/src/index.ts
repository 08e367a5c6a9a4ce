/**
 * `vdirsyncer-storage-template`: a template for storage plugins. A folder of collections, each collection a
 * subfolder holding one `collection.json` with its items and its displayname and color.
 *
 * ```ini
 * [storage notes]
 * type = "template"
 * path = "~/.local/share/notes/"
 * ```
 *
 * With `collections = ["work", …]` in the pair, the collection `work` is the folder `path/work/`; with
 * `collections = null`, `path` itself is the collection.
 */
import { mkdir, readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import {
  type CollectionInfo,
  CollectionNotFoundError,
  type CollectionRef,
  defineStorage,
  UserError,
} from "@vdirsyncer/core";
import { z } from "zod";
import { capabilities, openCollection } from "./collection.ts";
import { collectionFile, createCollectionFile, readCollection } from "./collection-file.ts";

/** The options, spelled as in the config file. A ref's `config` uses the same names. */
const Options = z
  .object({
    path: z.string().min(1).describe("the folder of the collections, or the collection itself"),
  })
  .strict();

function expand(path: string): string {
  return resolve(path === "~" || path.startsWith("~/") ? homedir() + path.slice(1) : path);
}

/**
 * The folder name of a collection id: percent-encoded, so that no id can name another folder (`a/b`, `..`).
 * A leading dot is encoded too, so that `.` and `..` stay plain names.
 */
function folderName(id: string): string {
  if (id === "") throw new UserError("A collection of the template storage needs a non-empty name.");
  return encodeURIComponent(id).replace(/^\./, "%2E");
}

export const template = defineStorage({
  type: "template",
  summary: "A folder of collections, each kept in one JSON file (a template for plugin authors).",
  itemKinds: ["calendar", "addressbook"],
  capabilities,
  options: Options,
  create: (options) => {
    const root = expand(options.path);

    /**
     * The folder of a collection. `config.path` is absent when it equals the configured `path` (that is how the
     * command caches refs); never read `href`, which does not survive the cache.
     */
    const folderOf = (ref: CollectionRef | null): string =>
      ref !== null && typeof ref.config.path === "string" ? expand(ref.config.path) : root;

    const infoOf = (folder: string, id: string, displayName?: string): CollectionInfo => ({
      id,
      href: folder,
      // Only what differs from the configured options: for the configured folder itself, nothing.
      config: folder === root ? {} : { path: folder },
      ...(displayName === undefined ? {} : { displayName }),
    });

    return {
      async open(ref) {
        const folder = folderOf(ref);
        // Cheap to tell here, so open() says it; it never creates anything.
        const found = await stat(collectionFile(folder)).catch((err: NodeJS.ErrnoException) => {
          if (err.code === "ENOENT" || err.code === "ENOTDIR") return undefined;
          throw err;
        });
        if (found === undefined) throw new CollectionNotFoundError(folder);
        return openCollection(collectionFile(folder));
      },

      async *discover() {
        let names: string[];
        try {
          names = await readdir(root);
        } catch (err) {
          // No folder yet: no collections. Anything else is worth reporting.
          if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
          throw err;
        }
        for (const name of names.sort()) {
          const folder = join(root, name);
          let displayName: string | undefined;
          try {
            displayName = (await readCollection(collectionFile(folder))).meta.displayname;
          } catch (err) {
            // Not a collection (a stray file or folder): skip it. A corrupt collection file is reported.
            if ((err as { code?: string }).code === "COLLECTION_NOT_FOUND") continue;
            if ((err as NodeJS.ErrnoException).code === "ENOTDIR") continue;
            throw err;
          }
          yield infoOf(folder, decodeURIComponent(name), displayName);
        }
      },

      async createCollection(id) {
        const folder = id === null ? root : join(root, folderName(id));
        await mkdir(folder, { recursive: true });
        await createCollectionFile(collectionFile(folder));
        return infoOf(folder, id ?? basename(root));
      },
    };
  },
});

export default template;
