/**
 * Paths and JSON files under `status_path`, laid out as vdirsyncer's `cli/utils.py` lays them out.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, normalize, relative } from "node:path";
import { type Logger, UserError } from "@vdirsyncer/core";
import { expandUser, pythonJsonDumps } from "@vdirsyncer/core/compat";

/** vdirsyncer's `STATUS_PERMISSIONS`: JSON status files are private. */
export const STATUS_FILE_MODE = 0o600;
/** vdirsyncer's `STATUS_DIR_PERMISSIONS`. */
export const STATUS_DIR_MODE = 0o700;

/** The three kinds of file vdirsyncer keeps per status name. */
export type StatusDataType = "items" | "metadata" | "collections";

/**
 * The status name: `<pair>` for the `null` collection, else `<pair>/<collection>` (vdirsyncer's
 * `get_status_name`). It is also how errors name a collection.
 */
export function statusName(pair: string, collection: string | null): string {
  return collection === null ? pair : `${pair}/${collection}`;
}

/**
 * The path of a status file without vdirsyncer's legacy rename: `expand_path(join(status_path, name)) + "." +
 * dataType`. Collection names are used verbatim, as vdirsyncer does.
 *
 * @throws {UserError} when the pair or collection name would place the file outside `statusPath` (`..`)
 */
export function statusFilePath(
  statusPath: string,
  pair: string,
  collection: string | null,
  dataType: StatusDataType | "lock",
): string {
  const base = normalize(expandUser(statusPath));
  const p = normalize(join(base, statusName(pair, collection)));
  const rel = relative(base, p);
  // vdirsyncer would happily write outside status_path for a collection named "../x"; a name from a server
  // must not be able to do that.
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new UserError(
      `The status name ${JSON.stringify(statusName(pair, collection))} does not name a file inside ${base}.`,
      { hint: "Rename the pair or the collection." },
    );
  }
  return `${p}.${dataType}`;
}

/** Creates the parent directory of `path` with mode 0700 (vdirsyncer's `prepare_status_path`). */
export function prepareStatusPath(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: STATUS_DIR_MODE });
}

/**
 * Loads a `.collections` or `.metadata` file as vdirsyncer's `load_status` does: `undefined` when it does not
 * exist, `{}` when it is not a JSON object, and its permissions tightened to 0600 first when looser (with
 * the warning `Correcting permissions of <path> from <old> to 600`).
 *
 * @throws {Error} an I/O error other than "file not found", e.g. a permission error
 */
export function loadJsonStatus(path: string, log?: Logger): Record<string, unknown> | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  // vdirsyncer compares the modes as numbers (0o640 > 0o600 but 0o077 is not); kept so both tools agree.
  if (mode > STATUS_FILE_MODE) {
    log?.warn(
      `Correcting permissions of ${path} from ${mode.toString(8)} to ${STATUS_FILE_MODE.toString(8)}`,
    );
    chmodSync(path, STATUS_FILE_MODE);
  }
  const text = readFileSync(path, "utf8");
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // Invalid JSON loads as {} (vdirsyncer behaviour): the caller then asks for a new discover.
  }
  return {};
}

/**
 * Writes a JSON status file as vdirsyncer's `save_status` does: Python `json.dump` formatting with no trailing
 * newline, a temporary file next to the target (named after it), fsync, `rename`, then `chmod 0600`.
 *
 * MUST leave either the old or the new file in place if the process dies at any point.
 */
export function saveJsonStatus(path: string, data: unknown): void {
  prepareStatusPath(path);
  writeFileAtomic(path, pythonJsonDumps(data), STATUS_FILE_MODE);
}

/** Writes `content` to `path` through a temporary sibling, fsyncing the file and its directory. */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode: number): void {
  const tmp = join(dirname(path), `${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", mode);
  try {
    writeSync(fd, typeof content === "string" ? Buffer.from(content, "utf8") : content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
  chmodSync(path, mode);
  fsyncDir(dirname(path));
}

/** Makes the names in a directory durable (a rename or a new file in it). */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
