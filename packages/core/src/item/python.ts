// STUB: the item-model helper replaces this file with the real implementation.
export {};
