import { createMemoryStorage, defineMemoryStorage, MemoryStore, memory } from "@vdirsyncer/core";
import { describeStorage } from "../src/index.ts";

// The store travels in the options, so that a second create() with the same options sees the same data.
describeStorage(memory, { name: "memory (default)", options: () => ({ store: new MemoryStore() }) });

describeStorage(defineMemoryStorage({ batchGet: false, ctag: false, syncToken: false }), {
  name: "memory (no batch get, ctag or sync token)",
  options: () => ({ store: new MemoryStore(), fileext: ".ics" }),
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
  name: "memory (fresh store per create)",
  options: () => ({}),
  knownFailures: {
    // A "<group> > <test name>" key, to check that group paths match.
    "persistence > a new create() with the same options sees the writes (after flush())":
      "without a shared store, every create() starts empty",
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
