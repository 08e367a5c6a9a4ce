export { PythonFloat, type PythonJsonOptions, pythonJsonDumps } from "@vdirsyncer/core/compat";
export * from "./discovery-cache.ts";
export { lockedError, STATUS_LOCKED } from "./errors.ts";
export {
  loadJsonStatus,
  STATUS_DIR_MODE,
  STATUS_FILE_MODE,
  type StatusDataType,
  saveJsonStatus,
  statusFilePath,
  statusName,
} from "./files.ts";
export * from "./journal.ts";
export * from "./journal-format.ts";
export * from "./legacy-status.ts";
export * from "./lock.ts";
export * from "./meta-status.ts";
export * from "./open-status.ts";
export * from "./run-recorder.ts";
export { SCHEMA_VERSION } from "./sqlite-db.ts";
export * from "./sqlite-status.ts";
export * from "./trash.ts";
