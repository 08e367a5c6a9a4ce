/**
 * The carddav storage: a CardDAV account (discovery, collection creation) whose address books are opened through
 * `@vdirsyncer/dav`.
 */
import type { Storage, StorageContext, WritableCollection } from "@vdirsyncer/core";
import {
  createDavStorage,
  type DavCollectionOptions,
  type DavSessionOptions,
  toDavSessionOptions,
} from "@vdirsyncer/dav";
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
 * @param session overrides of session options that no config key sets (e.g. the `onRequest` test hook)
 */
export function createCarddavStorage(
  options: CarddavOptions,
  ctx: StorageContext,
  session?: Partial<DavSessionOptions>,
): Storage<WritableCollection> {
  return createDavStorage(
    { ...toDavSessionOptions(options, ctx), ...session },
    carddavCollectionOptions(options),
  );
}
