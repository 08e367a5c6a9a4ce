/**
 * The `.metadata` file: the last synced value of each metadata key, as vdirsyncer's metasync keeps it.
 */
import type { Logger } from "@vdirsyncer/core";
import type { MetaStatus } from "@vdirsyncer/core/engine";
import { loadJsonStatus, saveJsonStatus, statusFilePath } from "./files.ts";

/** Options of {@link openMetaStatus}. */
export interface MetaStatusOptions {
  /** Receives the `Correcting permissions of …` warning. */
  log?: Logger;
}

/**
 * The metadata status of one (pair, collection): `<statusPath>/<pair>.metadata` for the `null` collection,
 * else `<statusPath>/<pair>/<collection>.metadata`, a JSON object `{key: value}`.
 *
 * `load()` MUST return `{}` for a missing or invalid file and drops non-string values (vdirsyncer never
 * writes any). `save()` writes the Python way, atomically, mode 0600.
 * @throws {UserError} when the names would place the file outside `statusPath`
 */
export function openMetaStatus(
  statusPath: string,
  pair: string,
  collection: string | null,
  opts: MetaStatusOptions = {},
): MetaStatus & { readonly path: string } {
  const path = statusFilePath(statusPath, pair, collection, "metadata");
  return {
    path,
    load() {
      const data = loadJsonStatus(path, opts.log) ?? {};
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(data)) if (typeof v === "string") out[k] = v;
      return out;
    },
    save(values) {
      saveJsonStatus(path, values);
    },
  };
}
