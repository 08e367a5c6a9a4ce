/**
 * Write intents as stored in the `.items` file: one JSON object per intent, read back strictly so that a damaged
 * row is reported instead of being half-trusted.
 */
import { UserError } from "@vdirsyncer/core";
import type { SideStatus, WriteIntent } from "@vdirsyncer/core/engine";

const KINDS = new Set(["upload", "update", "delete"]);

/**
 * Reads one stored intent.
 * @param path the status file, for the message
 * @throws {UserError} the text is not an intent this version writes
 */
export function parseIntent(text: string, path: string): WriteIntent {
  const bad = () =>
    new UserError(
      `The status file ${path} holds a write intent this version cannot read: ${text.slice(0, 200)}`,
      {
        hint: "It was probably written by a newer version; use that, or move the file away to start afresh.",
      },
    );
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad();
  }
  if (!isObject(v)) throw bad();
  const { ident, side, kind, source, target } = v;
  if (typeof ident !== "string" || (side !== "a" && side !== "b") || !KINDS.has(kind as string)) throw bad();
  if (source !== null && !isSideStatus(source)) throw bad();
  if (target !== null && !(isObject(target) && typeof target.href === "string" && isOptString(target.etag)))
    throw bad();
  return {
    ident,
    side,
    kind: kind as WriteIntent["kind"],
    source: source === null ? null : { href: source.href, hash: source.hash, etag: source.etag },
    target: target === null ? null : { href: target.href as string, etag: target.etag as string | null },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isOptString(v: unknown): v is string | null {
  return v === null || typeof v === "string";
}

function isSideStatus(v: unknown): v is SideStatus {
  return isObject(v) && isOptString(v.href) && typeof v.hash === "string" && isOptString(v.etag);
}
