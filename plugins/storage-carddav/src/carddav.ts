/**
 * The carddav storage: a CardDAV account (discovery, collection creation) whose address books are opened through
 * `@vdirsyncer/dav`.
 */
import type { CollectionInfo, Storage, StorageContext, WritableCollection } from "@vdirsyncer/core";
import {
  createDavCollection,
  createDavSession,
  type DavCollectionOptions,
  discoverCollections,
  openDavCollection,
} from "@vdirsyncer/dav";
import { toDavSessionOptions } from "@vdirsyncer/storage-caldav";
import type { CarddavOptions } from "./options.ts";

/** The collection options a carddav configuration asks for. */
export function carddavCollectionOptions(options: CarddavOptions): DavCollectionOptions {
  const result: DavCollectionOptions = {
    kind: "addressbook",
    fileext: ".vcf",
    useVcard4: options.use_vcard_4,
  };
  if (options.multiget_batch_size != null) result.multigetBatchSize = options.multiget_batch_size;
  if (options.multiget_concurrency != null) result.multigetConcurrency = options.multiget_concurrency;
  return result;
}

/**
 * Creates a carddav storage from validated options.
 *
 * `open(null)` opens the configured URL as the address book; `open(info)` opens `info.href`.
 */
export function createCarddavStorage(
  options: CarddavOptions,
  ctx: StorageContext,
): Storage<WritableCollection> {
  const session = createDavSession(toDavSessionOptions(options, ctx));
  const collectionOptions = carddavCollectionOptions(options);
  return {
    open: (info: CollectionInfo | null) =>
      openDavCollection(session, info?.href ?? session.url, collectionOptions),
    discover: () => discoverCollections(session, "addressbook"),
    createCollection: (id: string | null) => createDavCollection(session, "addressbook", id),
    close: () => session.close(),
  };
}
