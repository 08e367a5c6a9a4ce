/** `@vdirsyncer/core/memory`: an in-memory storage, for tests and examples. */
export * from "./storage/memory.ts";
