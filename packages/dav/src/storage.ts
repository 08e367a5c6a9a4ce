import type { CollectionInfo, Storage, WritableCollection } from "@vdirsyncer/core";
import type { DavCollectionOptions, DavSessionOptions } from "./api.ts";
import { createDavCollection, discoverCollections, openDavCollection } from "./discovery.ts";
import { HttpSession } from "./session.ts";

/**
 * A DAV account as a storage: one session; `open(null)` opens the configured URL as the collection and
 * `open(info)` opens `info.href`; discovery and collection creation for the kind in `collection`.
 * What the caldav and carddav plugins hand out, each with its own collection options.
 */
export function createDavStorage(
  session: DavSessionOptions,
  collection: DavCollectionOptions,
): Storage<WritableCollection> {
  const dav = new HttpSession(session);
  return {
    open: (info: CollectionInfo | null) => openDavCollection(dav, info?.href ?? dav.url, collection),
    discover: () => discoverCollections(dav, collection.kind),
    createCollection: (id: string | null) => createDavCollection(dav, collection.kind, id),
    close: () => dav.close(),
  };
}
