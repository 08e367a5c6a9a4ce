/**
 * `@vdirsyncer/core/engine`: what a host (the command, a library user) needs to run syncs: the planner and
 * executor, metasync, repair, the status interfaces and the hosted storage that enforces the contract.
 */
export * from "./repair.ts";
export * from "./status.ts";
export * from "./sync/index.ts";
