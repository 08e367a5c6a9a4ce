/**
 * `@vdirsyncer/storage-http`: the `http` storage type, a read-only iCalendar or vCard feed (webcal).
 */
import { defineStorage } from "@vdirsyncer/core";
import { createHttpStorage } from "./http.ts";
import { HttpOptions } from "./options.ts";

export {
  conditionalHeaders,
  decodeFeed,
  decodeTag,
  encodeTag,
  type FeedBody,
  firstInvalidUtf8,
  type Validator,
  validatorOf,
} from "./feed.ts";
export { runFilterHook } from "./filter-hook.ts";
export { createHttpStorage, feedUrl, type HttpCollection, type HttpStorage } from "./http.ts";
export { HttpOptions, normalizeFeedUrl, READ_ONLY_ONLY } from "./options.ts";

/**
 * The `http` storage: one `.ics` or `.vcf` URL, read-only.
 *
 * Each sync costs one GET; with an ETag or Last-Modified from the server, an unchanged feed costs one conditional
 * GET answered 304 and no listing. Items get their content hash as UID, href and etag, as in vdirsyncer.
 */
export const http = defineStorage({
  type: "http",
  summary: "A read-only iCalendar or vCard feed (webcal).",
  itemKinds: ["calendar", "addressbook"],
  capabilities: {
    readOnly: true,
    discover: false,
    createCollection: false,
    metadata: [],
    ctag: true,
    syncToken: false,
    batchGet: true,
    watch: false,
    concurrency: 1,
  },
  options: HttpOptions,
  create: (options, ctx) => createHttpStorage(options, ctx),
});

export default http;
