// Everything core exports, from all its entries, for the tests.
export * from "../src/compat/index.ts";
export * from "../src/engine.ts";
export * from "../src/memory.ts";
