/**
 * The carddav storage: a CardDAV account (discovery, collection creation) whose address books are opened through
 * `@vdirsyncer/dav`.
 */
import { type StorageContext, UserError } from "@vdirsyncer/core";
import {
  collectionOptionsFor,
  createDavStorage,
  type DavCollectionOptions,
  type DavSessionOptions,
  type DavStorage,
  toDavSessionOptions,
} from "@vdirsyncer/dav";
import { CarddavOptions } from "./options.ts";

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

function parseCarddavOptions(raw: Record<string, unknown>): CarddavOptions {
  const checked = CarddavOptions.safeParse(raw);
  if (checked.success) return checked.data;
  throw new UserError(`Invalid carddav options: ${checked.error.issues.map((i) => i.message).join("; ")}`);
}

/**
 * Creates a carddav storage from validated options.
 *
 * `open(null)` opens the configured URL as the address book; `open(ref)` the `url` of `ref.config` (the
 * configured one when absent), with `ref.config`'s other keys merged over the configured ones.
 * @param session overrides of session options that no config key sets (e.g. the `onRequest` test hook)
 */
export function createCarddavStorage(
  options: CarddavOptions,
  ctx: StorageContext,
  session?: Partial<DavSessionOptions>,
): DavStorage {
  const configured = carddavCollectionOptions(options);
  return createDavStorage({ ...toDavSessionOptions(options, ctx), ...session }, (config) =>
    Object.keys(config).every((k) => k === "url")
      ? configured
      : collectionOptionsFor(options, config, parseCarddavOptions, carddavCollectionOptions),
  );
}
