/**
 * `@vdirsyncer/core`: what a storage plugin needs. The contract and `defineStorage`, the errors, and the item
 * model (`Item`, split and join of whole files). Hosts import the engine from `@vdirsyncer/core/engine`.
 */
export * from "./errors.ts";
export * from "./item/collection.ts";
export * from "./item/component.ts";
export * from "./item/item.ts";
export * from "./storage/contract.ts";
export * from "./storage/define.ts";
export * from "./storage/watch-folder.ts";
