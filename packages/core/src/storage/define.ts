import {
  API_VERSION,
  type Capabilities,
  type StorageDeclaration,
  type StorageDefinition,
} from "./contract.ts";

const TYPE_PATTERN = /^[a-z][a-z0-9_]*$/;

/**
 * Declares a storage plugin.
 *
 * Checks that `type` looks like a config type (`/^[a-z][a-z0-9_]*$/`), stamps `apiVersion` so a host can refuse a
 * plugin built for another contract, and freezes the result. `const C` keeps the literal capabilities, so a
 * `readOnly: true` storage hands out collections without write methods.
 * Every capability but `concurrency` is written out, `false` ones too; `concurrency` defaults to 1 (one call at a
 * time per storage instance).
 * @throws {TypeError} `type` is not a valid config type, a capability is missing, or `concurrency` is not a positive
 *   integer: a bug in the plugin, which a host reports as such
 */
export function defineStorage<Options, const C extends Capabilities>(
  definition: StorageDeclaration<Options, C>,
): StorageDefinition<Options, C> {
  if (!TYPE_PATTERN.test(definition.type)) {
    throw new TypeError(`Invalid storage type "${definition.type}": use lower-case letters, digits and "_".`);
  }
  const required: (keyof Capabilities)[] = [
    "readOnly",
    "discover",
    "createCollection",
    "metadata",
    "ctag",
    "syncToken",
    "batchGet",
    "watch",
  ];
  const missing = required.filter((k) => definition.capabilities[k] === undefined);
  if (missing.length > 0) {
    throw new TypeError(
      `Storage type "${definition.type}" does not declare the capabilities: ${missing.join(", ")}.`,
    );
  }
  const concurrency = definition.capabilities.concurrency;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new TypeError(
      `Storage type "${definition.type}" declares concurrency ${String(concurrency)}: use a whole number of at least 1.`,
    );
  }
  return Object.freeze({
    ...definition,
    apiVersion: API_VERSION,
    capabilities: Object.freeze({
      ...definition.capabilities,
      metadata: Object.freeze([...definition.capabilities.metadata]),
    }),
    itemKinds: Object.freeze([...definition.itemKinds]),
  }) as unknown as StorageDefinition<Options, C>;
}
