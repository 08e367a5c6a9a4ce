/**
 * `@vdirsyncer/storage-caldav`: the `caldav` storage type, which syncs calendars on a CalDAV server.
 */
import { defineStorage } from "@vdirsyncer/core";
import { DAV_CONCURRENCY } from "@vdirsyncer/dav";
import { createCaldavStorage } from "./caldav.ts";
import { CaldavOptions } from "./options.ts";

export { caldavCollectionOptions, createCaldavStorage, parseCaldavOptions } from "./caldav.ts";
export {
  ACCEPTED_DATE_FORMS,
  checkDateRange,
  type DateExpression,
  DateExpressionError,
  evaluateDateRange,
  parseDateExpression,
} from "./date-expression.ts";
export { CaldavOptions, DATES_TOGETHER } from "./options.ts";

/**
 * The `caldav` storage: a CalDAV server account, or one calendar on it.
 *
 * Listing is incremental (ctag gate, then sync-collection) unless `item_types` or a date window is set; items
 * are fetched with bounded, concurrent multigets; writes are conditional (If-None-Match / If-Match). Up to 16
 * calls at once per storage (4 on a server that takes a new connection per request); `check()` reports.
 */
export const caldav = defineStorage({
  type: "caldav",
  summary: "Calendars on a CalDAV server.",
  itemKinds: ["calendar"],
  capabilities: {
    readOnly: false,
    discover: true,
    createCollection: true,
    metadata: ["displayname", "color", "description", "order"],
    ctag: true,
    syncToken: true,
    batchGet: true,
    watch: false,
    concurrency: DAV_CONCURRENCY,
  },
  options: CaldavOptions,
  create: (options, ctx) => createCaldavStorage(options, ctx),
});

export default caldav;
