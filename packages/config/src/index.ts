export * from "./fetch.ts";
export * from "./ini.ts";
export * from "./load.ts";
export * from "./model.ts";
export * from "./validate.ts";
