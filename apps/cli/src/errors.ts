/**
 * Errors of the command itself, and how every error is printed (as vdirsyncer's `handle_cli_error` prints them),
 * each followed by a one-line `hint:`. The engine's errors carry no hints: the command supplies them here, by code.
 */
import {
  type ErrorCode,
  isVdirsyncerError,
  type StorageEmptyError,
  type SyncConflictError,
  UserError,
  type VdirsyncerError,
} from "@vdirsyncer/core/engine";
import type { Output } from "./output.ts";

/** vdirsyncer's documentation, linked from the conflict message. */
export const DOCS_HOME = "https://vdirsyncer.pimutils.org/en/stable";

/** A pair named on the command line is not in the config. */
export class PairNotFoundError extends UserError {
  readonly pair: string;
  constructor(pair: string, configured: readonly string[]) {
    super(`Pair ${pair} does not exist.`, {
      hint:
        configured.length > 0
          ? `The configured pairs are: ${configured.join(", ")}.`
          : "The config file has no [pair …] section yet.",
    });
    this.pair = pair;
  }
}

/** The user answered "no" at a confirmation prompt: nothing more is printed, the exit code is 1. */
export class AbortedError extends Error {
  constructor() {
    super("Aborted.");
  }
}

/** An error that was already printed (a failed collection); it only sets the exit code. */
export class ReportedError extends Error {
  constructor() {
    super("The error was reported already.");
  }
}

/** A usage error (unknown option, bad option value): printed with the usage line, exit code 2. */
export class UsageError extends Error {}

/** Where this project's own bugs are reported. */
export const ISSUES = "https://github.com/vdirsyncer-ts/vdirsyncer-ts/issues";

// Keyed by string: the status package's lock code is moving from "LOCKED" to "status/LOCKED"; both are served.
const DEFAULT_HINTS: Partial<Record<ErrorCode | "LOCKED", string>> = {
  USER: "Check the config file against the message above.",
  NOT_FOUND: "Another program changed the collection during the sync; run `vdirsyncer sync` again.",
  ALREADY_EXISTS: "Another program changed the collection during the sync; run `vdirsyncer sync` again.",
  WRONG_ETAG: "Another program changed the item during the sync; run `vdirsyncer sync` again.",
  PRECONDITION_FAILED: "Another program changed the item during the sync; run `vdirsyncer sync` again.",
  READ_ONLY: "Set `partial_sync` in the pair section, or remove `read_only = true` from the storage.",
  UNSUPPORTED: "The storage type cannot do this; check its documentation.",
  ACCESS_DENIED: "Check the username, password or token of the storage.",
  INVALID_RESPONSE:
    "The server answered something unexpected; run with `-vdebug` and report it if it persists.",
  COLLECTION_NOT_FOUND: "Run `vdirsyncer discover` to look for the collections again.",
  ITEM_INVALID: "Fix or remove the item; the other items were synced.",
  BOTH_READ_ONLY: "Set read_only = false on one of the two storages.",
  SYNC_CONFLICT:
    'Set conflict_resolution = "a wins" or "b wins" in the pair section, or edit one side to match the other.',
  PARTIAL_SYNC: 'Set partial_sync = "ignore" or "revert" in the pair section.',
  METASYNC_CONFLICT: 'Set conflict_resolution = "a wins" or "b wins" in the pair section.',
  STORAGE_EMPTY:
    "If you want to delete ALL entries on BOTH sides, use `vdirsyncer sync --force-delete`; otherwise delete this collection's status files.",
  IDENT_CONFLICT: "Run `vdirsyncer repair` on that storage after making a backup.",
  DUPLICATE_HREF: "The storage or server is misbehaving; nothing was changed in this collection.",
  LOCKED: "Wait for the other sync to finish.",
  "status/LOCKED": "Wait for the other sync to finish.",
  PLUGIN:
    "This is a bug in the storage plugin, not in your config; report it to its authors with `-vdebug` output.",
  ENVIRONMENT: "The disk or the network failed; fix that and sync again, nothing was lost.",
  STOPPED:
    "The run was stopped before this finished; what finished is recorded, run the command again to do the rest.",
  INTERNAL: `This is a bug in vdirsyncer: run again with \`-vdebug\` and report it at ${ISSUES}.`,
};

/** Hints that need the error's own fields. */
function hintByFields(err: VdirsyncerError): string | undefined {
  const storage = (err as { storage?: unknown }).storage ?? err.context.storage;
  switch (err.code) {
    case "IDENT_CONFLICT":
      return typeof storage === "string"
        ? `Run \`vdirsyncer repair ${storage}\` after making a backup.`
        : undefined;
    case "METASYNC_CONFLICT": {
      const key = (err as { key?: unknown }).key;
      return `The metadata${typeof key === "string" ? ` "${key}"` : ""} differs on both sides: set conflict_resolution = "a wins" or "b wins" in the pair section.`;
    }
    default:
      return undefined;
  }
}

const UNKNOWN_HINT = "This looks like a bug: run again with `-vdebug` and report the traceback.";

/** The one-line hint printed after an error: its own, or one for its code. */
export function hintFor(err: unknown): string {
  if (isVdirsyncerError(err))
    return err.hint ?? hintByFields(err) ?? DEFAULT_HINTS[err.code as ErrorCode] ?? UNKNOWN_HINT;
  return UNKNOWN_HINT;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** UserError's text as vdirsyncer prints it: the message, then `\n  - <problem>` per problem. */
export function userErrorText(err: VdirsyncerError): string {
  const problems =
    err instanceof UserError ? err.problems : ((err as { problems?: string[] }).problems ?? []);
  return [err.message, ...problems.map((p) => `  - ${p}`)].join("\n");
}

/**
 * Prints `err` as vdirsyncer's CLI does, for `status` (`<pair>` or `<pair>/<collection>`) when given, then the
 * hint. Aborts and already reported errors print nothing.
 */
export function reportError(out: Output, err: unknown, status?: string): void {
  if (err instanceof AbortedError || err instanceof ReportedError) return;
  const at = status === undefined ? "" : `${status}: `;
  if (err instanceof PairNotFoundError) {
    out.error(
      `Pair ${err.pair} does not exist. Please check your configuration file and make sure you've typed the pair name correctly`,
    );
    out.hint("ERROR", hintFor(err));
    return;
  }
  if (isVdirsyncerError(err, "USER")) {
    out.critical(userErrorText(err));
    out.hint("CRITICAL", hintFor(err));
    return;
  }
  const code = isVdirsyncerError(err) ? err.code : undefined;
  const e = err as VdirsyncerError;
  let message: string;
  if (code === "STORAGE_EMPTY") {
    const storage = (e as StorageEmptyError).storage ?? e.context.storage;
    const name = status ?? storage;
    // vdirsyncer's wording, typo included ("sides,then").
    message = `${at}Storage "${storage}" was completely emptied. If you want to delete ALL entries on BOTH sides,then use \`vdirsyncer sync --force-delete ${name}\`. Otherwise delete the files for ${name} in your status directory.`;
  } else if (code === "PARTIAL_SYNC" || code === "IDENT_CONFLICT") {
    message = `${at}${e.message}`;
  } else if (code === "SYNC_CONFLICT") {
    const conflict = e as SyncConflictError;
    message = [
      `${at}${e.message}`,
      `See also ${DOCS_HOME}/config.html#pair-section`,
      `Item ID: ${conflict.ident}`,
      `Item href on side A: ${conflict.hrefA}`,
      `Item href on side B: ${conflict.hrefB}`,
    ].join("\n");
  } else if (code === "INVALID_RESPONSE" && e.hint !== undefined) {
    // The storage knew what went wrong (a 5xx, a timeout, an unreachable server): its message names the
    // request and URL, and its hint says what to do. "Doesn't understand" would send users the wrong way.
    message = `${at}${e.message}`;
  } else if (code === "INVALID_RESPONSE") {
    message = `${at}The server returned something vdirsyncer doesn't understand. Error message: ${JSON.stringify(e.message)}\nWhile this is most likely a serverside problem, the vdirsyncer devs are generally interested in such bugs. Please report it in the issue tracker at https://github.com/pimutils/vdirsyncer/issues`;
  } else if (code !== undefined && code !== "BOTH_READ_ONLY" && code !== "METASYNC_CONFLICT") {
    // Our own errors say what happened; "Unknown error" would be wrong for them. A plugin's or the engine's bug
    // keeps its traceback for `-vdebug`.
    message = `${at}${e.message}`;
    if (code === "PLUGIN" || code === "INTERNAL") {
      const cause = (e as { cause?: unknown }).cause;
      const stack = cause instanceof Error ? cause.stack : e.stack;
      if (stack) out.debug(stack);
    }
  } else {
    const where = status === undefined ? "" : ` for ${status}`;
    message = `Unknown error occurred${where}: ${messageOf(err)}\nUse \`-vdebug\` to see the full traceback.`;
    if (err instanceof Error && err.stack) out.debug(err.stack);
  }
  // A write the other side refused: name the user's own copy of the item, not only the server's href.
  const source = isVdirsyncerError(err) ? err.context?.source : undefined;
  if (source !== undefined && !message.includes(source)) message += `\nThe item comes from ${source}.`;
  out.error(message);
  out.hint("ERROR", hintFor(err));
}

/**
 * The errors of one collection, each kind printed once: the first in full with its hint, the later ones only at
 * `-vdebug` (with their href), and at {@link finish} one line `… and N more like it`. When another program changes
 * 126 items during a sync, that is one error and one count, not 126 of each.
 */
export class ErrorDigest {
  readonly #out: Output;
  readonly #status: string;
  /** Kind → how many were held back. */
  readonly #more = new Map<string, number>();

  constructor(out: Output, status: string) {
    this.#out = out;
    this.#status = status;
  }

  /** Prints `err`, or counts it when one of its kind was printed already. */
  report(err: unknown): void {
    if (err instanceof AbortedError || err instanceof ReportedError) return;
    const kind = kindOf(err);
    const more = this.#more.get(kind);
    if (more === undefined) {
      this.#more.set(kind, 0);
      reportError(this.#out, err, this.#status);
      return;
    }
    this.#more.set(kind, more + 1);
    this.#out.debug(`${this.#status}: ${messageOf(err)}`);
  }

  /** Prints the count of each kind held back. */
  finish(): void {
    for (const n of this.#more.values()) {
      if (n > 0) this.#out.error(`${this.#status}: … and ${n} more like it`);
    }
    this.#more.clear();
  }
}

/**
 * Item errors that say "another program changed this meanwhile": the same for every item, and the same remedy.
 * Other item errors (an invalid item, a conflict) need each item named, so they are never folded.
 */
const CHANGED_MEANWHILE = new Set<string>([
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "WRONG_ETAG",
  "PRECONDITION_FAILED",
]);

/** What makes two errors "alike": a changed-meanwhile error by its code alone; any other by its whole text. */
function kindOf(err: unknown): string {
  if (!isVdirsyncerError(err)) return `? ${messageOf(err)}`;
  if (CHANGED_MEANWHILE.has(err.code) && typeof err.context?.href === "string")
    return `${err.code} ${err.context.storage ?? ""}`;
  return `${err.code} ${err.message} ${err.context?.href ?? ""}`;
}
