/**
 * `[pair NAME]` sections, turned into the engine's typed options: the conflict resolution as the engine's
 * tagged value, `partial_sync` as its mode, the metadata keys as a list. The engine never sees INI shapes.
 */

import { UserError } from "@vdirsyncer/core";
import type { ConflictResolution, PartialSyncMode } from "@vdirsyncer/core/engine";
import { validateCollections } from "./collections.ts";
import type { CollectionEntry, PairSection } from "./model.ts";
import { fail, jsonTypeName, type Place, type SectionsOrigin } from "./problems.ts";
import { type ParsedSection, sectionName, sourceOf } from "./sections.ts";

const FETCH_SUFFIX = ".fetch";
const PAIR_KEYS = ["a", "b", "collections", "conflict_resolution", "partial_sync", "metadata", "implicit"];
const PARTIAL_SYNC_MODES: readonly PartialSyncMode[] = ["revert", "ignore", "error"];

/**
 * Turns a `conflict_resolution` value as written into the engine's {@link ConflictResolution}: `null`,
 * `"a wins"`, `"b wins"` or `["command", program, args…]`.
 * @param where - the place for the problem line, e.g. from {@link describePlace}
 * @throws {UserError} vdirsyncer's `Invalid value for \`conflict_resolution\`.`, with a hint that says what is
 *   wrong with this value; `problems` ends with `where`
 */
export function validateConflictResolution(value: unknown, where: string): ConflictResolution | null {
  if (value === null || value === undefined) return null;
  if (value === "a wins" || value === "b wins") return { kind: value };
  const invalid = (hint: string) => fail("Invalid value for `conflict_resolution`.", where, hint);
  const forms = 'Use null, "a wins", "b wins" or ["command", "program", "arg", …].';
  if (!Array.isArray(value) || value[0] !== "command") {
    // A command line is never repeated: it may hold a secret. Anything else is short and safe to show.
    const shown =
      typeof value === "string" ? `${JSON.stringify(value)} is none of the accepted values. ` : "";
    throw invalid(`${shown}${forms}`);
  }
  const [, ...argv] = value as unknown[];
  if (argv.length === 0 || argv[0] === "") {
    throw invalid('Name the program after "command", e.g. ["command", "vimdiff"].');
  }
  if (!argv.every((x): x is string => typeof x === "string")) {
    throw invalid('Write every part of the command as a string, e.g. ["command", "meld", "--auto"].');
  }
  return { kind: "command", argv: argv as [string, ...string[]] };
}

/**
 * Checks a `[pair NAME]` section in vdirsyncer's order (a, b, conflict_resolution, collections, implicit,
 * unknown keys, then partial_sync and metadata, which vdirsyncer checks only later) and returns it typed.
 * @throws {UserError} the first mistake, `Pair NAME: …`, with the key's place
 */
export function validatePair(s: ParsedSection, origin: SectionsOrigin, place: Place): PairSection {
  const name = sectionName(s);
  const opts = new Map(s.values);
  const at = (key?: string) => place(s.header, key, key === undefined ? s.line : s.lines.get(key));
  const pairFail = (msg: string, key: string | undefined, hint: string) =>
    fail(`Pair ${name}: ${msg}`, at(key), hint);
  // A check from another module: its message gets the pair's prefix.
  const prefixed = <T>(check: () => T): T => {
    try {
      return check();
    } catch (err) {
      const e = err as UserError;
      throw new UserError(`Pair ${name}: ${e.message}`, { problems: e.problems, hint: e.hint });
    }
  };
  const take = (key: string) => {
    const v = opts.get(key) ?? null;
    opts.delete(key);
    return v;
  };

  const side = (key: "a" | "b"): string => {
    const v = opts.get(key);
    if (v === undefined) {
      throw pairFail(
        `\`${key}\` parameter missing.`,
        undefined,
        `Add ${key} = "<storage name>" to [${s.header}].`,
      );
    }
    if (typeof v !== "string") {
      throw pairFail(
        `Invalid value for \`${key}\`: Expected a storage name, found ${jsonTypeName(v)}.`,
        key,
        `Write ${key} = "<storage name>".`,
      );
    }
    opts.delete(key);
    return v;
  };
  const a = side("a");
  const b = side("b");
  const implicit = take("implicit");
  const partialSync = take("partial_sync");
  const metadata = take("metadata");
  const conflictResolution = prefixed(() =>
    validateConflictResolution(take("conflict_resolution"), at("conflict_resolution")),
  );

  if (!opts.has("collections")) {
    throw pairFail(
      "collections parameter missing.\n\nAs of 0.9.0 this parameter has no default anymore. Set `collections = null` explicitly in your pair config.",
      undefined,
      'Add collections = null (the configured paths are the collections) or collections = ["from a", "from b"].',
    );
  }
  const collections: readonly CollectionEntry[] | null = prefixed(() =>
    validateCollections(take("collections"), at("collections")),
  );

  if (implicit !== null && implicit !== "create") {
    throw pairFail(
      "`implicit` parameter must be 'create' or absent.",
      "implicit",
      'Write implicit = "create", or remove the line to be asked before a collection is created.',
    );
  }
  if (opts.size > 0) {
    const unknown = [...opts.keys()];
    const fetched = unknown.some((k) => k.endsWith(FETCH_SUFFIX));
    throw pairFail(
      `Unknown options: ${unknown.join(", ")}`,
      unknown[0],
      fetched
        ? "Fetch params (key.fetch) work only in storage sections."
        : `Remove them: a pair takes only ${PAIR_KEYS.join(", ")}.`,
    );
  }
  if (partialSync !== null && !PARTIAL_SYNC_MODES.includes(partialSync as PartialSyncMode)) {
    throw pairFail("Invalid value for `partial_sync`.", "partial_sync", 'Use "revert", "ignore" or "error".');
  }
  if (metadata !== null && !(Array.isArray(metadata) && metadata.every((x) => typeof x === "string"))) {
    throw pairFail(
      `Invalid value for \`metadata\`: Expected a list of strings, found ${jsonTypeName(metadata)}.`,
      "metadata",
      'Write metadata = ["color", "displayname"].',
    );
  }
  return {
    name,
    a,
    b,
    collections,
    conflictResolution,
    partialSync: (partialSync ?? "revert") as PartialSyncMode,
    partialSyncSet: partialSync !== null,
    metadata: (metadata ?? []) as string[],
    implicitCreate: implicit === "create",
    raw: Object.fromEntries(s.values),
    source: sourceOf(s, origin),
  };
}
