/**
 * Building storages from config sections: the plugin for the `type`, the options checked with the plugin's
 * schema, and vdirsyncer's implicit creation of a missing local collection (spec/config.md §5.4).
 */
import type { JsonValue } from "@vdirsyncer/config";
import {
  isVdirsyncerError,
  type ReadableCollection,
  type Storage,
  type StorageDefinition,
  UserError,
  type WritableCollection,
} from "@vdirsyncer/core";
import { pythonJsonDumps } from "@vdirsyncer/status";
import type { AppContext } from "./context.ts";
import { confirm } from "./prompt.ts";

/** A storage's arguments: its section (resolved) updated with a collection's delta from discovery. */
export type StorageArgs = Record<string, JsonValue>;

/** Keys the host consumes; everything else goes to the plugin. */
const HOST_KEYS = new Set(["type", "read_only", "no_delete", "instance_name", "collection"]);

/**
 * vdirsyncer's message (`storage/base.py`) for `read_only = false` on a storage type that can only read; the same
 * text as `READ_ONLY_ONLY` of `@vdirsyncer/storage-http`, kept here because it holds for every read-only plugin.
 */
export const READ_ONLY_ONLY = "This storage can only be read-only.";

/** The instance name of a storage built from `args`: `section` or `section/collection`. */
export function instanceName(args: StorageArgs): string {
  const name = String(args.instance_name);
  return typeof args.collection === "string" ? `${name}/${args.collection}` : name;
}

/** A storage ready to use, with what the engine needs to know about it. */
export interface BuiltStorage {
  definition: StorageDefinition;
  storage: Storage<ReadableCollection | WritableCollection>;
  /** `section` or `section/collection`. */
  instance: string;
  readOnly: boolean;
  noDelete: boolean;
}

/** One opened collection. */
export interface OpenedCollection extends BuiltStorage {
  collection: ReadableCollection | WritableCollection;
  /** The arguments it was opened with, after an implicit creation. */
  args: StorageArgs;
}

function problemsOf(type: string, options: Record<string, unknown>, issues: readonly unknown[]): string[] {
  const missing: string[] = [];
  const problems: string[] = [];
  for (const raw of issues) {
    const issue = raw as { message: string; path?: readonly unknown[]; code?: string; keys?: string[] };
    const path = (issue.path ?? []).map((p) =>
      typeof p === "object" && p !== null && "key" in p ? String((p as { key: unknown }).key) : String(p),
    );
    if (issue.code === "unrecognized_keys" && Array.isArray(issue.keys)) {
      problems.push(`${type} storage doesn't take the parameters: ${issue.keys.join(", ")}`);
    } else if (path.length === 1 && !((path[0] as string) in options)) {
      missing.push(path[0] as string);
    } else {
      problems.push(path.length > 0 ? `${path.join(".")}: ${issue.message}` : issue.message);
    }
  }
  if (missing.length > 0) problems.unshift(`${type} storage requires the parameters: ${missing.join(", ")}`);
  return problems;
}

/**
 * Builds the storage for `args` (type, host keys and plugin options), checking the options with the plugin's
 * schema.
 * @throws {UserError} `Failed to initialize <instance>` with vdirsyncer's problem lines, or a plugin error
 */
export async function buildStorage(ctx: AppContext, args: StorageArgs): Promise<BuiltStorage> {
  const instance = instanceName(args);
  if (typeof args.type !== "string") {
    throw new UserError(`Failed to initialize ${instance}`, {
      problems: ["the storage section has no `type`"],
    });
  }
  const definition = await (await ctx.plugins()).load(args.type);
  // vdirsyncer: an unset (or null) `read_only` means the type's default; any falsy value on a read-only type is
  // refused. We refuse it too, but name the section (vdirsyncer prints the bare sentence).
  if (
    definition.capabilities.readOnly &&
    args.read_only !== undefined &&
    args.read_only !== null &&
    !args.read_only
  ) {
    throw new UserError(`Failed to initialize ${instance}`, {
      problems: [READ_ONLY_ONLY],
      hint: `Remove \`read_only = ${pythonJsonDumps(args.read_only)}\` from [storage ${String(args.instance_name)}]: the ${definition.type} storage cannot write.`,
    });
  }
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (!HOST_KEYS.has(k) && !k.endsWith(".fetch")) options[k] = v;
  const checked = await definition.options["~standard"].validate(options);
  if (checked.issues) {
    throw new UserError(`Failed to initialize ${instance}`, {
      problems: problemsOf(definition.type, options, checked.issues),
      hint: `See the options of the ${definition.type} storage in its README.`,
    });
  }
  const storage = await definition.create(checked.value, {
    instance,
    log: ctx.out,
    fetch: globalThis.fetch,
    signal: new AbortController().signal,
  });
  return {
    definition,
    storage: storage as Storage<ReadableCollection | WritableCollection>,
    instance,
    readOnly: args.read_only === true || definition.capabilities.readOnly,
    noDelete: args.no_delete === true,
  };
}

/** Options of {@link createCollectionFor}. */
export interface CreateOptions {
  /** Create without asking (`implicit = "create"`, and outside `discover`). */
  implicit: boolean;
  /** The error message that came with the missing collection, printed before the warning. */
  reason?: string;
}

/**
 * vdirsyncer's `handle_collection_not_found`: warns `No collection "<c>" found for storage <inst>.`, asks
 * `Should vdirsyncer attempt to create it?` unless `implicit`, and creates the collection on the storage
 * configured by `section` (its arguments without any collection delta).
 * @returns the delta for the created collection (`{collection, …config}`)
 * @throws {UserError} `Unable to find or create collection …` after a "no" or when the storage cannot create
 */
export async function createCollectionFor(
  ctx: AppContext,
  section: StorageArgs,
  collection: string | null,
  options: CreateOptions,
): Promise<StorageArgs> {
  const storageName = String(section.instance_name);
  ctx.out.warn(
    `${options.reason ? `${options.reason}\n` : ""}No collection ${pythonJsonDumps(collection)} found for storage ${storageName}.`,
  );
  const unable = () =>
    new UserError(
      `Unable to find or create collection "${collection}" for storage "${storageName}". Please create the collection yourself.`,
      { hint: "Create it with your calendar or contacts program, then run `vdirsyncer discover` again." },
    );
  if (!options.implicit && !(await confirm(ctx.out, ctx.reader, "Should vdirsyncer attempt to create it?"))) {
    throw unable();
  }
  const base = { ...section };
  delete base.collection;
  const built = await buildStorage(ctx, base);
  if (!built.storage.createCollection) {
    ctx.out.error(`The ${built.definition.type} storage cannot create collections.`);
    throw unable();
  }
  const info = await built.storage.createCollection(collection);
  return { collection, ...((info.config ?? {}) as Record<string, JsonValue>) };
}

/**
 * Opens the collection `args` points at, as vdirsyncer's `storage_instance_from_config(create=True)` does: when
 * it does not exist, it is created after a warning (no question asked), unless `create` is false.
 * @throws {UserError} invalid options, or the collection is missing and cannot be created
 */
export async function openCollection(
  ctx: AppContext,
  section: StorageArgs,
  delta: StorageArgs,
  options: { create: boolean },
): Promise<OpenedCollection> {
  const args = { ...section, ...delta };
  const built = await buildStorage(ctx, args);
  try {
    return { ...built, collection: await built.storage.open(null), args };
  } catch (err) {
    if (!options.create || !isVdirsyncerError(err, "COLLECTION_NOT_FOUND")) throw err;
    const collection = typeof args.collection === "string" ? args.collection : null;
    const created = await createCollectionFor(ctx, section, collection, {
      implicit: true,
      reason: err.message,
    });
    const again = { ...section, ...delta, ...created };
    const rebuilt = await buildStorage(ctx, again);
    return { ...rebuilt, collection: await rebuilt.storage.open(null), args: again };
  }
}
