// STUB: the item-model helper replaces this file with the real implementation.
import type { Item } from "./item.ts";

/** Splits a whole `.ics`/`.vcf` file into items, as vdirsyncer's `split_collection` does. */
export function splitCollection(_text: string): Item[] {
  throw new Error("not implemented");
}

/** Joins items into one `.ics`/`.vcf` file, as vdirsyncer's `join_collection` does. */
export function joinCollection(_items: readonly Item[]): string {
  throw new Error("not implemented");
}
