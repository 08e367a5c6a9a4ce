// Random sequences of creates, updates and deletes on both sides, with syncs in between, always converge
// (vdirsyncer's TestSyncMachine, reduced to the invariants the issue names).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createMemoryStatus, createMemoryTrash, type WritableCollection } from "./all.ts";
import { event, memorySide, sync } from "./sync-helpers.ts";

type Op =
  | { kind: "create" | "update" | "delete" | "touch"; side: "a" | "b"; uid: number }
  | { kind: "sync"; concurrency: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom("create", "update", "delete", "touch"),
      side: fc.constantFrom("a", "b"),
      uid: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("sync"), concurrency: fc.integer({ min: 1, max: 4 }) }),
  },
) as fc.Arbitrary<Op>;

async function snapshot(c: WritableCollection): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const ref of c.list()) {
    const { item } = await c.get(ref.href);
    expect(out.has(item.ident), `duplicate ident ${item.ident}`).toBe(false);
    out.set(item.ident, item.raw);
  }
  return out;
}

/** What the sync must produce from what each side did since the last sync (spec/sync.md action table). */
function expected(
  before: Map<string, string>,
  now: Record<"a" | "b", Map<string, string>>,
  changed: Record<"a" | "b", Set<string>>,
): Map<string, string> {
  const out = new Map<string, string>();
  const idents = new Set([...before.keys(), ...now.a.keys(), ...now.b.keys()]);
  for (const ident of idents) {
    const inA = now.a.get(ident);
    const inB = now.b.get(ident);
    const chA = inA !== undefined && (changed.a.has(ident) || !before.has(ident));
    const chB = inB !== undefined && (changed.b.has(ident) || !before.has(ident));
    if (inA !== undefined && inB !== undefined) {
      // Both changed: "a wins". Only one changed: that one. Neither: unchanged (equal on both).
      out.set(ident, chA ? inA : chB ? inB : inA);
    } else if (inA !== undefined) {
      if (chA) out.set(ident, inA);
    } else if (inB !== undefined) {
      if (chB) out.set(ident, inB);
    }
  }
  return out;
}

async function run(ops: Op[], incremental: boolean) {
  const caps = incremental ? {} : { capabilities: { ctag: false, syncToken: false } };
  const sides = { a: memorySide(".a", caps), b: memorySide(".b", caps) };
  const status = createMemoryStatus();
  const trash = createMemoryTrash();
  let version = 0;
  let synced = new Map<string, string>();
  const changed = { a: new Set<string>(), b: new Set<string>() };

  const doSync = async (concurrency: number) => {
    const now = { a: await snapshot(sides.a.collection), b: await snapshot(sides.b.collection) };
    const want = expected(synced, now, changed);
    const report = await sync(sides.a.collection, sides.b.collection, status, {
      conflictResolution: { kind: "a wins" },
      forceDelete: true,
      concurrency,
      trash,
    });
    expect(report.errors).toEqual([]);
    const after = { a: await snapshot(sides.a.collection), b: await snapshot(sides.b.collection) };
    expect(after.a).toEqual(want);
    expect(after.b).toEqual(want);
    expect(new Set(status.data.keys())).toEqual(new Set(want.keys()));
    synced = want;
    changed.a.clear();
    changed.b.clear();
    // A second sync right away has nothing to do.
    const again = await sync(sides.a.collection, sides.b.collection, status, {
      conflictResolution: { kind: "a wins" },
    });
    expect(again.plan.actions.filter((x) => x.kind !== "conflict" || !x.sameContent)).toEqual([]);
  };

  for (const op of ops) {
    if (op.kind === "sync") {
      await doSync(op.concurrency);
      continue;
    }
    const side = sides[op.side];
    const uid = `uid${op.uid}`;
    const href = `${uid}.${op.side}`;
    const existing = side.data.items.get(href);
    if (op.kind === "create" && !existing) {
      await side.collection.upload(event(uid, `v${++version}`));
      changed[op.side].add(uid);
    } else if (op.kind === "update" && existing) {
      await side.collection.update(href, event(uid, `v${++version}`), existing.etag);
      changed[op.side].add(uid);
    } else if (op.kind === "touch" && existing) {
      // A new etag for the same content (a server re-saving an item) is not a change.
      await side.collection.update(href, existing.item, existing.etag);
    } else if (op.kind === "delete" && existing) {
      await side.collection.delete(href, existing.etag);
      changed[op.side].delete(uid);
    }
  }
  await doSync(2);
  // Nothing was lost beyond recovery: every version overwritten or deleted on a side is in the trash.
  for (const entry of trash.entries) expect(entry.raw).toContain("BEGIN:VCALENDAR");
}

describe("sync: convergence under random edits (property)", () => {
  it.each([
    ["full listings", false],
    ["ctag and sync-token listings", true],
  ])("converges with %s", async (_name, incremental) => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => run(ops, incremental)),
      {
        numRuns: 150,
        // Always include: an etag-only change on a while b really changed (b must win).
        examples: [
          [
            [
              { kind: "create", side: "a", uid: 0 },
              { kind: "sync", concurrency: 1 },
              { kind: "touch", side: "a", uid: 0 },
              { kind: "update", side: "b", uid: 0 },
            ],
          ],
        ],
      },
    );
  });
});
