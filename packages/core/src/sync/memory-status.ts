import type { CollectionStatus, MetaStatus, StatusRow, Trash, TrashEntry, WriteIntent } from "../status.ts";

function clone(row: StatusRow): StatusRow {
  return { ident: row.ident, a: { ...row.a }, b: { ...row.b } };
}

/** A {@link CollectionStatus} kept in memory, for tests and library use without a status directory. */
export interface MemoryStatus extends CollectionStatus {
  /** The rows as stored now, by ident. */
  readonly data: Map<string, StatusRow>;
  readonly state: Map<string, string>;
  /** Intents recorded and not settled yet: what a killed run leaves behind. */
  readonly pending: WriteIntent[];
}

/** Creates an in-memory status, optionally filled with `rows`. */
export function createMemoryStatus(rows: Iterable<StatusRow> = []): MemoryStatus {
  const data = new Map<string, StatusRow>();
  for (const row of rows) data.set(row.ident, clone(row));
  const state = new Map<string, string>();
  const pending: WriteIntent[] = [];
  return {
    data,
    state,
    pending,
    rows: () => [...data.values()].map(clone),
    record(row) {
      for (const [ident, other] of data) {
        if (ident === row.ident) continue;
        if (
          (row.a.href !== null && other.a.href === row.a.href) ||
          (row.b.href !== null && other.b.href === row.b.href)
        ) {
          data.delete(ident);
        }
      }
      data.set(row.ident, clone(row));
    },
    forget(ident) {
      data.delete(ident);
    },
    commit(rows) {
      data.clear();
      for (const row of rows) data.set(row.ident, clone(row));
      pending.length = 0;
    },
    intend(intents) {
      pending.push(...intents.map((i) => structuredClone(i)));
    },
    settle() {
      pending.length = 0;
    },
    intents: () => pending.map((i) => structuredClone(i)),
    getState: (key) => state.get(key),
    setState(key, value) {
      if (value === undefined) state.delete(key);
      else state.set(key, value);
    },
  };
}

/** A {@link MetaStatus} kept in memory. */
export function createMemoryMetaStatus(
  initial: Record<string, string> = {},
): MetaStatus & { values: Record<string, string> } {
  const holder = { values: { ...initial } };
  return {
    get values() {
      return holder.values;
    },
    load: () => ({ ...holder.values }),
    save(values) {
      holder.values = { ...values };
    },
  };
}

/** A {@link Trash} kept in memory: `entries` holds everything kept, in order. */
export function createMemoryTrash(): Trash & { entries: TrashEntry[] } {
  const entries: TrashEntry[] = [];
  return {
    entries,
    async keep(batch) {
      entries.push(...batch.map((e) => ({ ...e })));
    },
  };
}
