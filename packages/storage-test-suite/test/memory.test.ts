import { createMemoryStorage, defineMemoryStorage, MemoryStore, memory } from "@vdirsyncer/core/memory";
import { describeStorage } from "../src/index.ts";

// The store travels in the options, so that a second create() with the same options sees the same data.
// The memory storage's configured location is the store itself, whose default collection always exists: there is
// no missing location to open(null), while a collection never created is still missing.
describeStorage(memory, {
  name: "memory (default)",
  options: () => ({ store: new MemoryStore() }),
  missingLocation: false,
});

describeStorage(defineMemoryStorage({ batchGet: false, ctag: false, syncToken: false, concurrency: 1 }), {
  name: "memory (no batch get, ctag or sync token, one call at a time)",
  options: () => ({ store: new MemoryStore(), fileext: ".ics" }),
  missingLocation: false,
});

describeStorage(defineMemoryStorage({ discover: false, createCollection: false, metadata: ["color"] }), {
  name: "memory (no collections, color only)",
  options: () => ({ store: new MemoryStore(), fileext: ".vcf" }),
});

describeStorage(defineMemoryStorage({ readOnly: true, createCollection: false, discover: false }), {
  name: "memory (read-only)",
  options: () => ({ store: new MemoryStore() }),
  seed: async (items) => {
    const store = new MemoryStore();
    const col = createMemoryStorage({ store }).open(null);
    for (const item of items) await col.upload(item);
    return { store };
  },
});

describeStorage(memory, {
  name: "memory (fresh store per create, declared not persistent)",
  options: () => ({}),
  persistent: false,
  missingLocation: false,
});

describeStorage(memory, {
  name: "memory (fresh store per create, not declared)",
  options: () => ({}),
  missingLocation: false,
  knownFailures: {
    // "<group> > <test name>" keys, to check that group paths match.
    "persistence > a new create() with the same options sees the writes (after flush())":
      "without a shared store, every create() starts empty",
    "collections > collections opened by the refs createCollection() returned, in a new instance, keep their items apart":
      "the new instance has none of the collections",
    "collections > collections opened by the refs discover() returned, in a new instance, keep their items apart":
      "the new instance has none of the collections",
  },
});

// The stale-entry check itself: a key that names no test makes the final check fail, which is expected here.
describeStorage(defineMemoryStorage({ readOnly: true }), {
  name: "memory (a stale knownFailures entry)",
  options: () => ({}),
  knownFailures: {
    "a test that does not exist": "stale on purpose",
    "knownFailures names only tests of this suite": "the entry above matches no test",
  },
});
