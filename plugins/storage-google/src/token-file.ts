/**
 * The token file: vdirsyncer's JSON shape (the OAuth library's token object), read leniently and written
 * atomically with mode 0600, so that token files written by vdirsyncer keep working and ours work there.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { UserError } from "@vdirsyncer/core";

/**
 * An OAuth token as stored in `token_file`. vdirsyncer (requests-oauthlib) writes `access_token`,
 * `expires_in`, `refresh_token`, `scope` as a **list**, `token_type` and `expires_at` (epoch seconds, a float in
 * older versions); other keys (`id_token`, …) are kept as they are.
 */
export interface StoredToken {
  access_token?: string;
  refresh_token?: string;
  token_type?: string;
  scope?: string[] | string;
  expires_in?: number;
  expires_at?: number;
  [key: string]: unknown;
}

/**
 * Reads the token file. A missing file, an empty file, `null` or `{}` mean "no token yet" (vdirsyncer then runs
 * the authorisation flow), and give `undefined`.
 * @throws {UserError} vdirsyncer's `Failed to load token file …, try deleting it.` for anything unreadable
 */
export async function loadToken(path: string): Promise<StoredToken | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw failed(path, (error as Error).message, error);
  }
  if (text.trim() === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw failed(path, (error as Error).message, error);
  }
  if (parsed === null) return undefined;
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw failed(path, "it does not hold a JSON object");
  }
  const token = parsed as StoredToken;
  if (Object.keys(token).length === 0) return undefined;
  const okString = (v: unknown) => v === undefined || typeof v === "string";
  if (
    !okString(token.access_token) ||
    !okString(token.refresh_token) ||
    (token.expires_at !== undefined && typeof token.expires_at !== "number")
  ) {
    throw failed(path, "access_token, refresh_token or expires_at has the wrong type");
  }
  if (!token.access_token && !token.refresh_token) {
    throw failed(path, "it holds neither an access_token nor a refresh_token");
  }
  return token;
}

function failed(path: string, reason: string, cause?: unknown): UserError {
  // vdirsyncer's words, then the reason (never the file's content: it holds secrets).
  return new UserError(`Failed to load token file ${path}, try deleting it. Original error: ${reason}`, {
    cause,
  });
}

/**
 * Writes the token file atomically (temporary file in the same folder, fsync, rename) with mode 0600, creating
 * missing parent folders (mode 0700).
 *
 * MUST never leave a partly written token file, and MUST NOT widen the permissions of the file it replaces.
 * @throws {UserError} the folder cannot be created or written
 */
export async function saveToken(path: string, token: StoredToken): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await open(tmp, "wx", 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(token)}\n`, "utf8");
      // The umask could only narrow 0600, but an inherited ACL could widen it: set it explicitly.
      await handle.chmod(0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    await chmod(path, 0o600);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw new UserError(`Cannot write the token file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The scope of a token as a list, whichever form the file or the server used. */
export function scopeList(scope: string[] | string | undefined): string[] {
  if (scope === undefined) return [];
  return Array.isArray(scope) ? [...scope] : scope.split(" ").filter((s) => s !== "");
}
