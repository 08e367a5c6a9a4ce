import { InvalidItemError, type VdirsyncerError } from "../errors.ts";
import type { Side, TrashEntry } from "../status.ts";
import type { ExecuteOptions, ExecutionState } from "./execute.ts";
import { fetchItems } from "./fetch.ts";
import type { Plan } from "./plan.ts";

const SIDES: readonly Side[] = ["a", "b"];

/**
 * Saves the current version of every item the plan overwrites or deletes, before any write. An item whose old
 * version cannot be read is not touched: its ident is returned as blocked and its action reported as failed.
 */
export async function keepOldVersions(
  plan: Plan,
  state: ExecutionState,
  options: ExecuteOptions,
  fail: (error: VdirsyncerError) => void,
): Promise<Set<string>> {
  const blocked = new Set<string>();
  if (!options.trash) return blocked;
  const entries: TrashEntry[] = [];
  const missing: Record<Side, Map<string, { ident: string; etag: string | null }>> = {
    a: new Map(),
    b: new Map(),
  };
  const want = (side: Side, ident: string, reason: TrashEntry["reason"]) => {
    const entry = state.next.get(ident)?.[side];
    if (!entry?.href || state.readOnly[side]) return;
    if (reason === "delete" && state.noDelete[side]) return;
    const cached = state.items[side].get(ident);
    if (cached) {
      entries.push({
        storage: state.names[side],
        side,
        ident,
        href: entry.href,
        etag: entry.etag,
        raw: cached.raw,
        reason,
      });
    } else {
      missing[side].set(entry.href, { ident, etag: entry.etag });
    }
  };
  for (const action of plan.actions) {
    if (action.kind === "update") want(action.side, action.ident, "update");
    else if (action.kind === "delete") want(action.side, action.ident, "delete");
    // A conflict's loser is kept by the action itself, once the resolver has chosen (the winner is not overwritten).
  }
  for (const side of SIDES) {
    const wanted = missing[side];
    if (wanted.size === 0) continue;
    const reasons = new Map(
      plan.actions
        .filter((a) => "side" in a && a.side === side)
        .map((a) => [a.ident, a.kind === "delete" ? "delete" : "update"] as const),
    );
    const seen = new Set<string>();
    const result = await fetchItems(state.collections[side], [...wanted.keys()], state.names[side]);
    for (const got of result.items) {
      const w = wanted.get(got.href);
      if (!w) continue;
      seen.add(got.href);
      entries.push({
        storage: state.names[side],
        side,
        ident: w.ident,
        href: got.href,
        etag: got.etag,
        raw: got.item.raw,
        reason: reasons.get(w.ident) ?? "update",
      });
    }
    for (const failure of result.failures) {
      const w = wanted.get(failure.href);
      if (!w) continue;
      seen.add(failure.href);
      if (failure.error.code === "NOT_FOUND") continue; // the write will fail with its own error
      blocked.add(w.ident);
      fail(
        new InvalidItemError(
          `Not changing item ${w.ident} in ${state.names[side]}: its current version could not be read to keep a copy (${failure.error.message})`,
          { href: failure.href, cause: failure.error },
        ),
      );
    }
  }
  if (entries.length > 0) await options.trash.keep(entries);
  return blocked;
}
