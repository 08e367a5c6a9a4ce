import { UserError } from "../errors.ts";
import { API_VERSION, type Capabilities, type StorageDefinition } from "./contract.ts";

const TYPE_PATTERN = /^[a-z][a-z0-9_]*$/;

/**
 * Declares a storage plugin.
 *
 * Checks that `type` looks like a config type (`/^[a-z][a-z0-9_]*$/`), stamps `apiVersion` so a host can refuse a
 * plugin built for another contract, and freezes the result. `const C` keeps the literal capabilities, so a
 * `readOnly: true` storage hands out collections without write methods.
 * @throws {UserError} `type` is not a valid config type, or capabilities are missing
 */
export function defineStorage<Options, const C extends Capabilities>(
  definition: Omit<StorageDefinition<Options, C>, "apiVersion">,
): StorageDefinition<Options, C> {
  if (!TYPE_PATTERN.test(definition.type)) {
    throw new UserError(`Invalid storage type "${definition.type}": use lower-case letters, digits and "_".`);
  }
  const required: (keyof Capabilities)[] = [
    "readOnly",
    "discover",
    "createCollection",
    "metadata",
    "ctag",
    "syncToken",
    "batchGet",
  ];
  const missing = required.filter((k) => definition.capabilities[k] === undefined);
  if (missing.length > 0) {
    throw new UserError(
      `Storage type "${definition.type}" does not declare the capabilities: ${missing.join(", ")}.`,
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
  }) as StorageDefinition<Options, C>;
}
