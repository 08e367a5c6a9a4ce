import { MemoryStore } from "@vdirsyncer/core/memory";
import { describeStorage } from "../src/index.ts";
import { defineWatchedMemory } from "./fixtures/watched-memory.ts";

describeStorage(defineWatchedMemory(true), {
  name: "memory with a watch",
  options: () => ({ store: new MemoryStore() }),
  missingLocation: false,
});

describeStorage(defineWatchedMemory(false), {
  name: "memory with a watch that never calls",
  options: () => ({ store: new MemoryStore() }),
  missingLocation: false,
  knownFailures: {
    "watch() calls onChange after a write through another instance": "its watchers are never called",
  },
});
