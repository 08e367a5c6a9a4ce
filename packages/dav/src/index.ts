import type { DavSession, DavSessionOptions } from "./api.ts";
import { HttpSession } from "./session.ts";

export { pyQuote, pyUnquote, pyUrljoin, pyUrlsplit } from "@vdirsyncer/core/compat";
export * from "./api.ts";
export { DavCollectionImpl, metaKeys } from "./collection.ts";
export { DigestAuth, type DigestChallenge, parseDigestChallenge } from "./digest.ts";
export {
  collectionName,
  createDavCollection,
  discoverCollections,
  findHome,
  openDavCollection,
} from "./discovery.ts";
export { generateHref, normalizeHref } from "./href.ts";
export { profileFor, type ServerProfile } from "./profiles.ts";
export {
  API_DISABLED_HINT,
  type DavRequest,
  type DavResponse,
  FINGERPRINT_HINT,
  HttpSession,
  HttpStatusError,
  isUsageLimited,
  parseRetryAfter,
  readResponse,
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
} from "./session.ts";
export {
  checkSessionOptions,
  DEFAULT_USERAGENT,
  type SessionOptions,
  sessionOptionsShape,
  toDavSessionOptions,
} from "./session-options.ts";
export { createDavStorage } from "./storage.ts";
export { buildXml, cleanControlChars, el, NS, parseXml, type XmlElement, type XmlNode } from "./xml.ts";

/**
 * Creates the HTTP session of a DAV storage (auth, TLS pins, timeouts, retries, connection reuse).
 * @throws {UserError} bad auth settings, an unreadable `verify`/`auth_cert` file, or a fingerprint that is not SHA-256
 */
export function createDavSession(options: DavSessionOptions): DavSession {
  return new HttpSession(options);
}
