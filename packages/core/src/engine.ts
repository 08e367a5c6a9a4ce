/**
 * `@vdirsyncer/core/engine`: what a host (the command, a library user) needs to run syncs: hosted storages that
 * enforce the contract, the planner and executor, metasync, repair and the status interfaces. Re-exports the
 * plugin entry, so one import is enough for a host.
 */
export * from "./index.ts";
export * from "./repair.ts";
export * from "./status.ts";
export * from "./storage/host.ts";
export { Limiter } from "./storage/limiter.ts";
export * from "./sync/index.ts";
