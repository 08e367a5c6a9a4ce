import { isVdirsyncerError, ReadOnlyError, UnsupportedError, type VdirsyncerError } from "../errors.ts";
import { normalizeMetaValue } from "../item/item.ts";
import type { MetaStatus } from "../status.ts";
import type { Logger, MetaKey, ReadableCollection, WritableCollection } from "../storage/contract.ts";
import { type ConflictResolution, checkConflictResolution } from "./conflict.ts";
import { MetaSyncConflictError } from "./errors.ts";

/** One side of a metasync. */
export interface MetasyncSide {
  name: string;
  collection: ReadableCollection | WritableCollection;
  readOnly?: boolean;
}

/** Options of {@link metasyncCollection}. */
export interface MetasyncOptions {
  a: MetasyncSide;
  b: MetasyncSide;
  /** The pair's `metadata` list. */
  keys: readonly MetaKey[];
  status: MetaStatus;
  /**
   * The pair's conflict resolution, the same value sync takes: `a wins` and `b wins` apply; `command` and
   * `custom` only log a warning here and the key is reported as a conflict, as in vdirsyncer.
   * @default null: a conflict is an error for that key
   */
  conflictResolution?: ConflictResolution | null;
  log?: Logger;
}

async function getMeta(side: MetasyncSide, key: MetaKey): Promise<string | undefined> {
  if (!side.collection.getMeta) throw new UnsupportedError("This storage does not support metadata.");
  return normalizeMetaValue(await side.collection.getMeta(key));
}

async function setMeta(side: MetasyncSide, key: MetaKey, value: string | undefined): Promise<void> {
  const collection = side.collection as Partial<WritableCollection>;
  if (side.readOnly || !collection.setMeta)
    throw new ReadOnlyError("This storage is read-only.", { context: { storage: side.name } });
  await collection.setMeta(key, value);
}

/**
 * Syncs metadata (displayname, color, …) of one collection pair, as vdirsyncer's metasync does (spec/sync.md).
 *
 * Fixed on purpose: a conflict on one key no longer loses the status of the keys already synced; the other keys
 * are still synced, the status is saved, and then the first conflict is thrown.
 * @throws {MetaSyncConflictError} a key differs on both sides and no resolution is set
 * @throws {UserError} `conflictResolution` is not a {@link ConflictResolution} (checked before anything is read)
 */
export async function metasyncCollection(options: MetasyncOptions): Promise<void> {
  const { a: sideA, b: sideB } = options;
  const resolution = checkConflictResolution(options.conflictResolution)?.kind ?? null;
  const log = options.log;
  const loaded = await options.status.load();
  const status: Record<string, string> = { ...loaded };
  const set = (key: string, value: string | undefined) => {
    if (value === undefined) delete status[key];
    else status[key] = value;
  };
  let conflict: VdirsyncerError | undefined;
  const readOnly =
    sideA.readOnly || sideB.readOnly || !("setMeta" in sideA.collection) || !("setMeta" in sideB.collection);

  for (const key of options.keys) {
    const a = await getMeta(sideA, key);
    const b = await getMeta(sideB, key);
    const s = normalizeMetaValue(status[key]);
    log?.debug(`Key: ${key}\nA: ${a}\nB: ${b}\nS: ${s}`);
    const aToB = async () => {
      log?.info(`Copying ${key} to ${sideB.name}`);
      await setMeta(sideB, key, a);
      set(key, a);
    };
    const bToA = async () => {
      log?.info(`Copying ${key} to ${sideA.name}`);
      await setMeta(sideA, key, b);
      set(key, b);
    };
    try {
      if ((a !== s && b !== s) || readOnly) {
        if (a === b) set(key, a);
        else if (resolution === "a wins") await aToB();
        else if (resolution === "b wins") await bToA();
        else {
          if (resolution !== null) log?.warn("Custom commands don't work on metasync.");
          throw new MetaSyncConflictError(key);
        }
      } else if (a !== s) await aToB();
      else if (b !== s) await bToA();
    } catch (err) {
      if (!isVdirsyncerError(err, "METASYNC_CONFLICT")) {
        await options.status.save(status);
        throw err;
      }
      conflict ??= err;
    }
  }
  for (const key of Object.keys(status)) if (!options.keys.includes(key as MetaKey)) delete status[key];
  await options.status.save(status);
  if (conflict) throw conflict;
}
