// Not re-exported: an internal helper.

/** Sets a key as an own property, even `__proto__` (a fetch key may be any string). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
