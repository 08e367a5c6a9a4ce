export * from "./describe-storage.ts";
export * from "./fresh-dir.ts";
export * from "./items.ts";
export * from "./normalize.ts";
