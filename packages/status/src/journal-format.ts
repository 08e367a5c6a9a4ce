/**
 * The format of the journal's run files: one run of one collection, action by action, and the ids runs carry.
 */
import { randomBytes } from "node:crypto";
import type { Side } from "@vdirsyncer/core/engine";

/** The format of a run file; a reader skips others. */
export const JOURNAL_FORMAT = 1;
/** How many runs of one collection the journal keeps. */
export const JOURNAL_KEEP_RUNS = 100;
/** What started a run. */
export type RunKind = "sync" | "undo" | "restore";

/** How one action ended. */
export type ActionResult = "done" | "failed" | "not-started";

/** One action of a run. */
export interface JournalAction {
  /** A sync's action kinds, or `restore` (a version put back by undo or restore). */
  kind: "upload" | "update" | "delete" | "conflict" | "restore";
  /** The side written; `null` for a conflict that wrote both sides or none. */
  side: Side | null;
  ident: string;
  /** Where the item is (or was) on `side`, when known. */
  href: string | null;
  /** SUMMARY or FN of the version written (or deleted), control characters removed. */
  name: string | null;
  uid: string | null;
  /** The content hash of the version this action wrote, when it wrote one. */
  hash: string | null;
  result: ActionResult;
  error?: string;
  /** The trash entries holding what this action overwrote or deleted (kept before it). */
  trash: string[];
  /** For `restore`: the trash entry put back. */
  restored?: string;
}

/** One run of one collection. */
export interface JournalRun {
  format: number;
  run: string;
  kind: RunKind;
  pair: string;
  collection: string | null;
  /** The storage instance names of side a and b, when the run opened them. */
  storages: { a: string; b: string } | null;
  started: string;
  finished: string;
  result: "ok" | "failed" | "stopped";
  errors: number;
  /** The first error messages, control characters removed. */
  messages: string[];
  actions: JournalAction[];
  /** For `undo`: the run it undid. */
  undoes?: string | null;
}

/** A new run id: the UTC time to the second and 24 random bits, `20250614T153012Z-9f3a1c`. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}
