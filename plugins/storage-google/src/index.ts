/**
 * `@vdirsyncer/storage-google`: the `google_calendar` and `google_contacts` storage types, Google Calendar and
 * Google Contacts over CalDAV/CardDAV with OAuth 2.
 */
import { defineStorage } from "@vdirsyncer/core";
import { CALENDAR_META, createGoogleStorage } from "./google.ts";
import { GoogleCalendarOptions, GoogleContactsOptions } from "./options.ts";

export {
  type AuthorizationCode,
  type AuthorizeRequest,
  type AuthorizeUi,
  HEADLESS_ENV,
  isHeadless,
  makePkce,
  obtainAuthorizationCode,
} from "./authorize.ts";
export { hasGraphicalDisplay, openGraphicalBrowser } from "./browser.ts";
export {
  ENDPOINTS_ENV,
  GOOGLE_ENDPOINTS,
  GOOGLE_SCOPES,
  type GoogleEndpoints,
  resolveEndpoints,
} from "./endpoints.ts";
export {
  COLLECTION_REQUIRED,
  createGoogleStorage,
  type GoogleCollection,
  type GoogleKind,
  type GoogleOverrides,
  type GoogleStorage,
  googleCalendarName,
} from "./google.ts";
export { API_DISABLED_HINT, interpretGoogleError, parseGoogleError } from "./google-errors.ts";
export { GOOGLE_RETRY, googleSessionOptions } from "./google-session.ts";
export { GoogleAuth, type GoogleAuthOptions, sharedGoogleAuth } from "./oauth.ts";
export { GoogleCalendarOptions, GoogleContactsOptions } from "./options.ts";
export { DEFAULT_RATE_LIMIT, type RateLimit, sharedBucket, TokenBucket } from "./rate-limit.ts";
export { loadToken, type StoredToken, saveToken, scopeList } from "./token-file.ts";

/**
 * The `google_calendar` storage: the calendars of a Google account, selected at
 * calendar.google.com/calendar/syncselect. A collection is required (`collections = null` is refused).
 */
export const googleCalendar = defineStorage({
  type: "google_calendar",
  summary: "Google Calendar over CalDAV, with OAuth 2.",
  itemKinds: ["calendar"],
  capabilities: {
    readOnly: false,
    discover: true,
    createCollection: false,
    metadata: CALENDAR_META,
    ctag: true,
    syncToken: true,
    batchGet: true,
    watch: false,
    concurrency: 16,
  },
  options: GoogleCalendarOptions,
  create: (options, ctx) => createGoogleStorage("calendar", options, ctx),
});

/**
 * The `google_contacts` storage: the address book of a Google account. A collection is required
 * (`collections = null` is refused).
 */
export const googleContacts = defineStorage({
  type: "google_contacts",
  summary: "Google Contacts over CardDAV, with OAuth 2.",
  itemKinds: ["addressbook"],
  capabilities: {
    readOnly: false,
    discover: true,
    createCollection: false,
    metadata: [],
    ctag: true,
    syncToken: true,
    batchGet: true,
    watch: false,
    concurrency: 16,
  },
  options: GoogleContactsOptions,
  create: (options, ctx) => createGoogleStorage("addressbook", options, ctx),
});

/** Both Google storage types; a host registers each by its `type`. */
const definitions = [googleCalendar, googleContacts] as const;
export default definitions;
