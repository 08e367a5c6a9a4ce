export * from "./errors.ts";
export * from "./item/collection.ts";
export * from "./item/item.ts";
export * from "./status.ts";
export * from "./storage/contract.ts";
export * from "./storage/define.ts";
