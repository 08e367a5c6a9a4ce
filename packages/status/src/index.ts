export { PythonFloat, type PythonJsonOptions, pythonJsonDumps } from "@vdirsyncer/core/compat";
export * from "./discovery-cache.ts";
export {
  loadJsonStatus,
  STATUS_DIR_MODE,
  STATUS_FILE_MODE,
  type StatusDataType,
  saveJsonStatus,
  statusFilePath,
  statusName,
} from "./files.ts";
export * from "./lock.ts";
export * from "./meta-status.ts";
export * from "./sqlite-status.ts";
export * from "./trash.ts";
