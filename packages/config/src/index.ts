export * from "./ini.ts";
export * from "./model.ts";
