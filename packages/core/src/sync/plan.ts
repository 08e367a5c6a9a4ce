import { compareCodePoints } from "../compat/strings.ts";
import type { Side, SideStatus, StatusRow } from "../status.ts";

/** What the engine knows of one item on one side during a sync: a {@link SideStatus}. */
export type SideEntry = SideStatus;

/**
 * One step of a sync. Plain data: `--dry-run` prints it and tests compare it.
 *
 * `side` is always the side that is written: `upload` copies the item from the other side to `side`;
 * `update` overwrites `side`'s copy (at `href`, expected `etag`) with the other side's; `delete` removes `side`'s
 * copy. `conflict` means the item changed on both sides; `sameContent` says whether both now hash the same
 * (then nothing is written).
 */
export type SyncAction =
  | { kind: "upload"; side: Side; ident: string }
  | { kind: "update"; side: Side; ident: string; href: string | null; etag: string | null }
  | { kind: "delete"; side: Side; ident: string; href: string | null; etag: string | null }
  | { kind: "conflict"; ident: string; hrefA: string | null; hrefB: string | null; sameContent: boolean };

/** The actions of one sync, in the order they are planned, and how many idents need nothing. */
export interface Plan {
  actions: SyncAction[];
  unchanged: number;
}

/** The other side. */
export function otherSide(side: Side): Side {
  return side === "a" ? "b" : "a";
}

/**
 * True when an item counts as changed on one side since the last sync (vdirsyncer's `is_changed`).
 *
 * New on this side (no old row) is a change. Otherwise only an etag change whose content hash also changed
 * counts: a new etag with the same normalised content is not a change (CHANGELOG 0.7.4, test_bogus_etag_change).
 * A legacy `"UNDEFINED"` hash compares unequal, so such an item counts as changed when its etag differs.
 */
export function isChanged(old: SideStatus | undefined, now: SideEntry): boolean {
  if (old === undefined) return true;
  return now.etag !== old.etag && now.hash !== old.hash;
}

/**
 * Plans a sync: compares what each side holds now with the status of the last sync (spec/sync.md, action table).
 *
 * Pure: it reads its arguments and returns a value. Idents are visited in code-point order (vdirsyncer visits
 * them in SQLite index order, which has no semantic effect), so a plan is deterministic.
 */
export function planSync(
  old: ReadonlyMap<string, StatusRow>,
  a: ReadonlyMap<string, SideEntry>,
  b: ReadonlyMap<string, SideEntry>,
): Plan {
  const idents = new Set<string>([...a.keys(), ...b.keys(), ...old.keys()]);
  const actions: SyncAction[] = [];
  let unchanged = 0;
  for (const ident of [...idents].sort(compareCodePoints)) {
    const inA = a.get(ident);
    const inB = b.get(ident);
    const row = old.get(ident);
    if (inA && inB) {
      const aChanged = isChanged(row?.a, inA);
      const bChanged = isChanged(row?.b, inB);
      if (aChanged && bChanged) {
        // Modified on both sides, or new on both sides without a status row.
        actions.push({
          kind: "conflict",
          ident,
          hrefA: inA.href,
          hrefB: inB.href,
          sameContent: inA.hash === inB.hash,
        });
      } else if (aChanged) {
        // Modified on a only.
        actions.push({ kind: "update", side: "b", ident, href: inB.href, etag: inB.etag });
      } else if (bChanged) {
        // Modified on b only.
        actions.push({ kind: "update", side: "a", ident, href: inA.href, etag: inA.etag });
      } else {
        unchanged++;
      }
    } else if (inA) {
      if (isChanged(row?.a, inA)) {
        // New on a, or deleted on b but modified on a: the modification wins (CHANGELOG 0.3.1).
        actions.push({ kind: "upload", side: "b", ident });
      } else {
        // Deleted on b and unchanged on a.
        actions.push({ kind: "delete", side: "a", ident, href: inA.href, etag: inA.etag });
      }
    } else if (inB) {
      if (isChanged(row?.b, inB)) {
        // New on b, or deleted on a but modified on b.
        actions.push({ kind: "upload", side: "a", ident });
      } else {
        // Deleted on a and unchanged on b.
        actions.push({ kind: "delete", side: "b", ident, href: inB.href, etag: inB.etag });
      }
    }
    // Gone from both sides: nothing to do; the ident leaves the status.
  }
  return { actions, unchanged };
}
