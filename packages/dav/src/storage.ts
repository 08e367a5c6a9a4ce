/** A DAV account as a storage of the plugin contract: what the caldav and carddav plugins hand out. */
import {
  type CheckReport,
  type CollectionInfo,
  type CollectionRef,
  type JsonValue,
  type OpenOptions,
  type Storage,
  UserError,
  type WritableCollection,
} from "@vdirsyncer/core";
import type { DavCollection, DavCollectionOptions, DavSessionOptions } from "./api.ts";
import { checkDav } from "./check.ts";
import { createDavCollection, discoverCollections, openDavCollection } from "./discovery.ts";
import { redactUrl } from "./http-errors.ts";
import { closesConnections } from "./profiles.ts";
import { HttpSession } from "./session.ts";

/**
 * Calls at once a DAV storage instance takes (all its collections together). 16 keeps what the engine ran per
 * collection before limits counted per instance (up to 8 writes or 16 reads on one collection).
 */
export const DAV_CONCURRENCY = 16;

/**
 * The limit for a server that takes a new connection per request (HTTP/1.0, `Connection: close`). Measured on
 * Radicale 3.1.8 (answers HTTP/1.0): 200 PUTs took 89-97 ms each one at a time, 103-113 ms with 4 at once and
 * 88-110 ms with 16; 200 GETs 4-11 ms each at any level. Parallel requests buy nothing there and writes get slower.
 */
export const SERIAL_CONCURRENCY = 4;

/** The configuration a collection is opened with: the configured options, or a ref's `config` merged over them. */
export type CollectionConfig = Readonly<Record<string, JsonValue>>;

/** A DAV storage: the contract's storage plus the session, for plugins that build on it. */
export type DavStorage = Storage<DavCollection & WritableCollection> & {
  readonly session: HttpSession;
  discover(): AsyncIterable<CollectionInfo>;
  createCollection(id: string | null): Promise<CollectionInfo>;
  check(): Promise<CheckReport>;
  close(): Promise<void>;
  readonly concurrency: number;
};

/**
 * The URL of the collection `ref` selects: its `config.url`, or the configured URL when the key is absent (the
 * host leaves out keys equal to the section's) or for `null`.
 * @throws {UserError} `config.url` is not a string
 */
export function refUrl(ref: CollectionRef | null, configured: string): string {
  const url = ref?.config.url;
  if (url === undefined || url === null) return configured;
  if (typeof url !== "string" || url === "") {
    throw new UserError(
      `The collection ${ref?.id} has no usable url in its cached configuration (${JSON.stringify(url)}); run \`vdirsyncer discover\` again.`,
    );
  }
  return url;
}

/** Session keys: one session serves every collection of a storage, so a collection's config cannot change them. */
const SESSION_KEYS = [
  "username",
  "password",
  "auth",
  "verify",
  "verify_fingerprint",
  "auth_cert",
  "useragent",
  "timeout",
  "max_attempts",
] as const;

/**
 * The collection options for a ref's `config` merged over the configured `options`: `build(options)` when the
 * config holds nothing but `url`, else `build(parse({...options, ...config}))`.
 * @param parse the storage's option schema (throws a UserError for values it refuses)
 * @throws {UserError} the config changes a session key (`username`, `verify` …), which one session cannot honour
 */
export function collectionOptionsFor<O extends object>(
  options: O,
  config: CollectionConfig,
  parse: (raw: Record<string, unknown>) => O,
  build: (options: O) => DavCollectionOptions,
): DavCollectionOptions {
  if (Object.keys(config).every((k) => k === "url")) return build(options);
  const merged = parse({ ...options, ...config });
  for (const key of SESSION_KEYS) {
    const before = (options as Record<string, unknown>)[key] ?? null;
    const after = (merged as Record<string, unknown>)[key] ?? null;
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      throw new UserError(
        `The cached configuration of a collection sets ${key}, which must be the same for every collection of a storage; set it in the storage section instead.`,
      );
    }
  }
  return build(merged);
}

/**
 * A DAV account as a storage: one session for all its collections. `open(ref)` opens the URL in `ref.config`
 * (the configured URL when absent, and for `null`) without sending anything; a collection that does not exist is
 * reported by the first call (CollectionNotFoundError). Discovery, creation and `check()` for `kind`; concurrency
 * {@link DAV_CONCURRENCY}, lowered to {@link SERIAL_CONCURRENCY} once the server shows that it takes a new
 * connection per request.
 * @param collection the collection options, or a function giving them for a ref's `config` (`{}` for `null`)
 * @throws {UserError} bad auth settings or unreadable certificate files
 */
export function createDavStorage(
  session: DavSessionOptions,
  collection: DavCollectionOptions | ((config: CollectionConfig) => DavCollectionOptions),
): DavStorage {
  const dav = new HttpSession(session);
  const optionsFor = typeof collection === "function" ? collection : () => collection;
  const kind = optionsFor({}).kind;
  return {
    session: dav,
    get concurrency() {
      return closesConnections(dav.observed) ? SERIAL_CONCURRENCY : DAV_CONCURRENCY;
    },
    open: (ref: CollectionRef | null, { signal, stats }: OpenOptions) =>
      openDavCollection(dav, refUrl(ref, dav.url), optionsFor(ref?.config ?? {}), { signal, stats }),
    discover: () => discoverCollections(dav, kind),
    createCollection: (id: string | null) => createDavCollection(dav, kind, id),
    check: () =>
      checkDav(dav, {
        kind,
        verify: Boolean(session.verify),
        pinned: Boolean(session.verifyFingerprint),
      }).catch((error: unknown) => ({
        // checkDav reports every failure itself; this is the last guard of "check() never throws".
        results: [
          {
            aspect: "reachable" as const,
            ok: false,
            detail: `Checking ${redactUrl(dav.url)} failed: ${error instanceof Error ? error.message : String(error)}`,
          },
        ],
        collections: [],
      })),
    close: () => dav.close(),
  };
}
