/**
 * `@vdirsyncer/storage-carddav`: the `carddav` storage type, which syncs address books on a CardDAV server.
 */
import { defineStorage } from "@vdirsyncer/core";
import { DAV_CONCURRENCY } from "@vdirsyncer/dav";
import { createCarddavStorage } from "./carddav.ts";
import { CarddavOptions } from "./options.ts";

export { carddavCollectionOptions, createCarddavStorage } from "./carddav.ts";
export { CarddavOptions } from "./options.ts";

/**
 * The `carddav` storage: a CardDAV server account, or one address book on it.
 *
 * Listing is incremental (ctag gate, then sync-collection); contacts are fetched with bounded, concurrent
 * multigets; writes are conditional. Only `displayname` and `description` exist as metadata: CardDAV has no
 * colour or order property.
 */
export const carddav = defineStorage({
  type: "carddav",
  summary: "Address books on a CardDAV server.",
  itemKinds: ["addressbook"],
  capabilities: {
    readOnly: false,
    discover: true,
    createCollection: true,
    metadata: ["displayname", "description"],
    ctag: true,
    syncToken: true,
    batchGet: true,
    watch: false,
    concurrency: DAV_CONCURRENCY,
  },
  options: CarddavOptions,
  create: (options, ctx) => createCarddavStorage(options, ctx),
});

export default carddav;
