import { VdirsyncerError } from "../errors.ts";
import type { Side } from "../status.ts";

/**
 * Errors of the sync engine. Plugins never throw these. Messages are vdirsyncer's where a script might read
 * them; the host adds the `<pair>/<collection>: ` prefix and the hint (these carry none: what to do depends on
 * the host, a command line or a library).
 */

/** One item changed on both sides and `conflict_resolution` is not set. */
export class SyncConflictError extends VdirsyncerError {
  readonly ident: string;
  readonly hrefA: string | null;
  readonly hrefB: string | null;
  constructor(ident: string, hrefA: string | null, hrefB: string | null) {
    super(
      "SYNC_CONFLICT",
      "One item changed on both sides. Resolve this conflict manually, or by setting the `conflict_resolution` parameter in your config file.",
    );
    this.ident = ident;
    this.hrefA = hrefA;
    this.hrefB = hrefB;
  }
}

/** One storage holds two items with the same ident (same UID, or same content without UID). */
export class IdentConflictError extends VdirsyncerError {
  readonly storage: string;
  readonly hrefs: readonly string[];
  constructor(storage: string, hrefs: readonly string[]) {
    super(
      "IDENT_CONFLICT",
      `Storage "${storage}" contains multiple items with the same UID or even content. Vdirsyncer will now abort the synchronization of this collection, because the fix for this is not clear; It could be the result of a badly behaving server. You can try running:\n\n    vdirsyncer repair ${storage}\n\nBut make sure to have a backup of your data in some form. The offending hrefs are:\n\n${hrefs
        .slice(0, 2)
        .map((h) => `'${h}'`)
        .join("\n")}`,
      { context: { storage } },
    );
    this.storage = storage;
    this.hrefs = hrefs;
  }
}

/** One side listed nothing while the status says it held items: refusing to delete everything on the other. */
export class StorageEmptyError extends VdirsyncerError {
  readonly storage: string;
  readonly side: Side;
  constructor(storage: string, side: Side) {
    super("STORAGE_EMPTY", `Storage "${storage}" was completely emptied.`, { context: { storage } });
    this.storage = storage;
    this.side = side;
  }
}

/** Both storages of a pair are read-only: nothing could ever be written. */
export class BothReadOnlyError extends VdirsyncerError {
  constructor() {
    super("BOTH_READ_ONLY", "Both storages are read-only, so there is nothing to synchronize.");
  }
}

/** A change would have to be written to a read-only storage and `partial_sync = "error"`. */
export class PartialSyncError extends VdirsyncerError {
  readonly storage: string;
  constructor(storage: string) {
    super(
      "PARTIAL_SYNC",
      `Attempted change on ${storage}, which is read-only. Set \`partial_sync\` in your pair section to \`ignore\` to ignore those changes, or \`revert\` to revert them on the other side.`,
      { context: { storage } },
    );
    this.storage = storage;
  }
}

/** metasync: a metadata key differs on both sides and `conflict_resolution` is not set. */
export class MetaSyncConflictError extends VdirsyncerError {
  readonly key: string;
  constructor(key: string) {
    super("METASYNC_CONFLICT", key);
    this.key = key;
  }
}

/** A storage listed the same href twice (vdirsyncer hits an assertion; we stop the collection cleanly). */
export class DuplicateHrefError extends VdirsyncerError {
  constructor(storage: string, href: string) {
    super("DUPLICATE_HREF", `Storage "${storage}" listed the item ${href} more than once.`, {
      context: { storage, href },
    });
  }
}
