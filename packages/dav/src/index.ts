import type { DavSession, DavSessionOptions } from "./api.ts";
import { HttpSession } from "./session.ts";

export { pyQuote, pyUnquote, pyUrljoin, pyUrlsplit } from "@vdirsyncer/core/compat";
export * from "./api.ts";
export { checkDav, type DavCheckOptions } from "./check.ts";
export { DavCollectionImpl, isServerDefaultName, metaKeys } from "./collection.ts";
export { DigestAuth, type DigestChallenge, parseDigestChallenge } from "./digest.ts";
export {
  collectionName,
  createDavCollection,
  discoverCollections,
  findHome,
  openDavCollection,
} from "./discovery.ts";
export { generateHref, normalizeHref } from "./href.ts";
export {
  type ErrorInterpretation,
  FINGERPRINT_HINT,
  FORBIDDEN_HINT,
  HttpStatusError,
  hasUserInfo,
  isUsageLimited,
  type JudgedResponse,
  MASK,
  redactText,
  redactUrl,
  SERVER_ERROR_HINT,
  statusError,
  TIMEOUT_HINT,
  TLS_EXPIRED_HINT,
  TLS_HINT,
  TLS_HOSTNAME_HINT,
  UNAUTHORIZED_HINT,
  UNREACHABLE_HINT,
  UnansweredError,
  USAGE_LIMIT_HINT,
} from "./http-errors.ts";
export {
  closesConnections,
  describeListing,
  type ObservedServer,
  observedServer,
  profileFor,
  type ServerProfile,
} from "./profiles.ts";
export { parseRetryAfter } from "./retry.ts";
export {
  type DavRequest,
  type DavResponse,
  HttpSession,
  type RequestScope,
  readResponse,
} from "./session.ts";
export {
  checkSessionOptions,
  DEFAULT_USERAGENT,
  type SessionOptions,
  sessionOptionsShape,
  toDavSessionOptions,
} from "./session-options.ts";
export {
  type CollectionConfig,
  collectionOptionsFor,
  createDavStorage,
  DAV_CONCURRENCY,
  type DavStorage,
  refUrl,
  SERIAL_CONCURRENCY,
} from "./storage.ts";
export { buildXml, cleanControlChars, el, NS, parseXml, type XmlElement, type XmlNode } from "./xml.ts";

/**
 * Creates the HTTP session of a DAV storage (auth, TLS pins, timeouts, retries, connection reuse).
 * @throws {UserError} bad auth settings, an unreadable `verify`/`auth_cert` file, or a fingerprint that is not SHA-256
 */
export function createDavSession(options: DavSessionOptions): DavSession {
  return new HttpSession(options);
}
