/**
 * `describeStorage()`: registers the conformance suite for one storage definition. Each group lives in its own
 * file under `groups/`; the harness gives them fresh locations and opens collections as the command does,
 * through core's hosted storage, so the declared concurrency is the one tested.
 */
import type { Capabilities, StorageDefinition } from "@vdirsyncer/core";
import { afterAll, describe, expect } from "vitest";
import { removeFreshDirs } from "./fresh-dir.ts";
import { collectionsGroup } from "./groups/collections.ts";
import { contractGroup } from "./groups/contract.ts";
import { incrementalGroups } from "./groups/incremental.ts";
import { itemGroups } from "./groups/items.ts";
import { metadataGroup } from "./groups/metadata.ts";
import { missingGroup } from "./groups/missing.ts";
import { parallelGroup } from "./groups/parallel.ts";
import { persistenceGroup } from "./groups/persistence.ts";
import { watchGroup } from "./groups/watch.ts";
import { createSuite, type DescribeStorageOptions, type Suite } from "./harness.ts";

export { cachedRef } from "./expect.ts";
export { replaceCollectionId } from "./groups/missing.ts";
export { parallelWrites } from "./groups/parallel.ts";
export type { DescribeStorageOptions } from "./harness.ts";

/**
 * Registers the conformance suite for a storage definition as vitest `describe`/`it` blocks.
 *
 * Every test gets a fresh location from `options()`, a storage instance from `create()` hosted as the command
 * hosts it (`hostStorage()` of `@vdirsyncer/core/engine`), and a fresh collection: `createCollection()` with a
 * random id when declared, opened from its ref as the discovery cache keeps it; else `open(null)`. Groups are
 * chosen from the definition's `capabilities` and `itemKinds`. Call it at the top level of a test file.
 */
export function describeStorage<O, C extends Capabilities>(
  definition: StorageDefinition<O, C>,
  config: DescribeStorageOptions<O>,
): void {
  const suite = createSuite(definition as StorageDefinition<O>, config);
  const { caps } = suite;
  describe(config.name ?? `${definition.type} storage conformance`, () => {
    afterAll(removeFreshDirs);
    contractGroup(suite);
    if (!caps.readOnly) {
      itemGroups(suite);
      persistenceGroup(suite);
      if (caps.createCollection) {
        collectionsGroup(suite);
        missingGroup(suite);
      }
      parallelGroup(suite);
      if (caps.metadata.length > 0) metadataGroup(suite);
      incrementalGroups(suite);
      if (caps.watch) watchGroup(suite);
    }
    finish(suite);
  });
}

/** The last test: every knownFailures and timeouts key must name a test, so typos and stale entries do not linger. */
function finish<O>(suite: Suite<O>): void {
  suite.test("knownFailures names only tests of this suite", async () => {
    const stale = Object.keys(suite.config.knownFailures ?? {}).filter((k) => !suite.usedKnown.has(k));
    expect(stale, "knownFailures entries that match no test").toEqual([]);
    const staleTimeouts = Object.keys(suite.config.timeouts ?? {}).filter((k) => !suite.usedTimeouts.has(k));
    expect(staleTimeouts, "timeouts entries that match no test").toEqual([]);
  });
}
