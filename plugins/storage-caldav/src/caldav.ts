/**
 * The caldav storage: a CalDAV account (discovery, collection creation) whose collections are opened through
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
import { evaluateDateRange } from "./date-expression.ts";
import { CaldavOptions } from "./options.ts";

/**
 * The collection options a caldav configuration asks for. The date window is evaluated here, once, when the
 * storage is created (vdirsyncer evaluates it when the storage is instantiated).
 * @throws {DateExpressionError} the date arithmetic fails at this clock (e.g. a year out of range)
 */
export function caldavCollectionOptions(
  options: CaldavOptions,
  now: Date = new Date(),
): DavCollectionOptions {
  const result: DavCollectionOptions = { kind: "calendar", fileext: ".ics" };
  if (options.item_types != null && options.item_types.length > 0) result.itemTypes = [...options.item_types];
  if (options.start_date != null && options.end_date != null) {
    result.timeRange = evaluateDateRange(options.start_date, options.end_date, now);
  }
  if (options.multiget_batch_size != null) result.multigetBatchSize = options.multiget_batch_size;
  if (options.multiget_concurrency != null) result.multigetConcurrency = options.multiget_concurrency;
  return result;
}

/**
 * Checks `raw` with the caldav schema.
 * @throws {UserError} with the schema's messages
 */
export function parseCaldavOptions(raw: Record<string, unknown>): CaldavOptions {
  const checked = CaldavOptions.safeParse(raw);
  if (checked.success) return checked.data;
  throw new UserError(`Invalid caldav options: ${checked.error.issues.map((i) => i.message).join("; ")}`);
}

/**
 * Creates a caldav storage from validated options.
 *
 * `open(null)` opens the configured URL as the collection; `open(ref)` the `url` of `ref.config` (the configured
 * one when absent), with the calendar filters of `ref.config` merged over the configured ones. With `item_types`
 * or a date window the collection lists with calendar-query REPORTs and its `changes()` throws UnsupportedError,
 * so that the engine lists in full (a sync-collection delta would ignore the filter).
 * @param session overrides of session options that no config key sets (e.g. the `onRequest` test hook)
 */
export function createCaldavStorage(
  options: CaldavOptions,
  ctx: StorageContext,
  session?: Partial<DavSessionOptions>,
): DavStorage {
  const configured = caldavCollectionOptions(options);
  return createDavStorage({ ...toDavSessionOptions(options, ctx), ...session }, (config) =>
    Object.keys(config).every((k) => k === "url")
      ? configured
      : collectionOptionsFor(options, config, parseCaldavOptions, (o) => caldavCollectionOptions(o)),
  );
}
