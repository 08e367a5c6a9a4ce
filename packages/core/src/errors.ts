/**
 * Error types shared by the engine, the plugins and the CLI.
 *
 * Every error carries a stable `code`. Use {@link isVdirsyncerError} rather than `instanceof`: a plugin may
 * bundle its own copy of core, and the code still matches.
 */

/** The codes core defines. */
export type CoreErrorCode =
  | "USER"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "WRONG_ETAG"
  | "PRECONDITION_FAILED"
  | "READ_ONLY"
  | "UNSUPPORTED"
  | "ACCESS_DENIED"
  | "INVALID_RESPONSE"
  | "SYNC_TOKEN_EXPIRED"
  | "COLLECTION_NOT_FOUND"
  | "ITEM_INVALID"
  | "SYNC_CONFLICT"
  | "IDENT_CONFLICT"
  | "STORAGE_EMPTY"
  | "BOTH_READ_ONLY"
  | "PARTIAL_SYNC"
  | "METASYNC_CONFLICT"
  | "DUPLICATE_HREF"
  | "PLUGIN"
  | "ENVIRONMENT"
  | "STOPPED"
  | "INTERNAL";

/**
 * The stable code of a {@link VdirsyncerError}: one of core's, or a namespaced code of a package's own,
 * `"<namespace>/<NAME>"` (e.g. `"status/LOCKED"`, `"vdirsyncer-storage-x/QUOTA"`), so that codes never collide.
 */
export type ErrorCode = CoreErrorCode | `${string}/${string}`;

const MARK = Symbol.for("vdirsyncer.error");

/** Where an error happened; the engine fills this in on the way up. */
export interface ErrorContext {
  /** Storage instance name, e.g. `my_calendars/work`. */
  storage?: string;
  /** The storage method that failed, e.g. `update`. */
  operation?: string;
  href?: string;
  /** A file or URL, when that says more than the href. */
  location?: string;
  /** For a failed write: where the item being written comes from, `<storage> <href>` (e.g. the user's local file). */
  source?: string;
}

/** The base class of every error this project throws on purpose. */
export class VdirsyncerError extends Error {
  readonly code: ErrorCode;
  /** A one-line suggestion of what to do; the CLI prints it after the message. */
  hint: string | undefined;
  context: ErrorContext;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; hint?: string; context?: ErrorContext },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options?.hint;
    this.context = { ...options?.context };
    Object.defineProperty(this, MARK, { value: code });
  }

  override get name(): string {
    return this.constructor.name;
  }

  /** Adds context that is not already set, and returns the error itself. */
  withContext(context: ErrorContext): this {
    for (const [k, v] of Object.entries(context) as [keyof ErrorContext, string | undefined][]) {
      if (v !== undefined && this.context[k] === undefined) this.context[k] = v;
    }
    return this;
  }
}

/**
 * True when `err` is one of our errors, optionally with one of the given codes.
 *
 * Works across copies of this package: it reads a registered symbol, not the prototype chain. The code
 * `PRECONDITION_FAILED` also matches its three children (`NOT_FOUND`, `ALREADY_EXISTS`, `WRONG_ETAG`).
 */
export function isVdirsyncerError(err: unknown, ...codes: ErrorCode[]): err is VdirsyncerError {
  if (typeof err !== "object" || err === null) return false;
  const code = (err as Record<symbol, unknown>)[MARK] as ErrorCode | undefined;
  if (code === undefined) return false;
  if (codes.length === 0) return true;
  if (codes.includes(code)) return true;
  return (
    codes.includes("PRECONDITION_FAILED") &&
    (code === "NOT_FOUND" || code === "ALREADY_EXISTS" || code === "WRONG_ETAG")
  );
}

/** The configuration or the usage is wrong. Printed without a stack, with its `problems`. */
export class UserError extends VdirsyncerError {
  readonly problems: readonly string[];
  constructor(message: string, options?: { problems?: readonly string[]; cause?: unknown; hint?: string }) {
    super("USER", message, options);
    this.problems = options?.problems ?? [];
  }
}

/** A write's precondition did not hold; the parent of the three errors below. */
export class PreconditionFailedError extends VdirsyncerError {
  constructor(
    message = "The item changed or does not exist.",
    options?: { cause?: unknown; code?: ErrorCode; context?: ErrorContext },
  ) {
    super(options?.code ?? "PRECONDITION_FAILED", message, options);
  }
}

/** The href does not exist. */
export class NotFoundError extends PreconditionFailedError {
  constructor(href: string, options?: { cause?: unknown; message?: string }) {
    super(options?.message ?? `Item not found: ${href}`, {
      ...options,
      code: "NOT_FOUND",
      context: { href },
    });
  }
}

/** An upload found its href already taken. */
export class AlreadyExistsError extends PreconditionFailedError {
  readonly existingHref: string;
  constructor(existingHref: string, options?: { cause?: unknown }) {
    super(`An item already exists at ${existingHref}`, {
      ...options,
      code: "ALREADY_EXISTS",
      context: { href: existingHref },
    });
    this.existingHref = existingHref;
  }
}

/** An update or delete named an etag that is no longer current. */
export class WrongEtagError extends PreconditionFailedError {
  constructor(href: string, options?: { cause?: unknown; expected?: string; actual?: string }) {
    super(
      `The item at ${href} changed since it was listed` +
        (options?.expected !== undefined
          ? ` (expected etag ${options.expected}, found ${options.actual})`
          : ""),
      { ...options, code: "WRONG_ETAG", context: { href } },
    );
  }
}

/** A write reached a read-only storage. */
export class ReadOnlyError extends VdirsyncerError {
  constructor(message = "This storage is read-only.", options?: { context?: ErrorContext }) {
    super("READ_ONLY", message, options);
  }
}

/** A capability is missing, e.g. a metadata key the storage does not know. */
export class UnsupportedError extends VdirsyncerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("UNSUPPORTED", message, options);
  }
}

/** The backend refused the credentials (401/403 after they were tried). */
export class AccessDeniedError extends VdirsyncerError {
  constructor(message: string, options?: { cause?: unknown; hint?: string; context?: ErrorContext }) {
    super("ACCESS_DENIED", message, options);
  }
}

/**
 * The backend answered something we cannot use, or could not be reached. `body` is cut to 4 KiB. A `hint` says
 * what went wrong when the storage knows (a 5xx, a timeout, an unreachable server).
 */
export class InvalidResponseError extends VdirsyncerError {
  readonly body: string | undefined;
  constructor(
    message: string,
    options?: { body?: string; cause?: unknown; hint?: string; context?: ErrorContext },
  ) {
    super("INVALID_RESPONSE", message, options);
    this.body = options?.body?.slice(0, 4096);
  }
}

/** `changes()` cannot continue from the token; the engine falls back to a full listing. */
export class SyncTokenExpiredError extends VdirsyncerError {
  constructor(message = "The sync token is no longer valid.", options?: { cause?: unknown }) {
    super("SYNC_TOKEN_EXPIRED", message, options);
  }
}

/** The configured collection (folder, file, URL) does not exist; the CLI may create it. */
export class CollectionNotFoundError extends VdirsyncerError {
  constructor(location: string, options?: { cause?: unknown; message?: string }) {
    super("COLLECTION_NOT_FOUND", options?.message ?? `Collection not found: ${location}`, {
      ...options,
      context: { location },
    });
  }
}

/** Where a plugin comes from, for messages that name it. */
export interface PluginSource {
  /** The storage type, e.g. `caldav`. */
  type: string;
  /** The npm package that provides it, when known. */
  package?: string;
  version?: string;
  /** Where to report its bugs (the package's `bugs` URL). */
  bugs?: string;
}

/** `caldav (@vdirsyncer/storage-caldav 1.0.0)`, or the bare type when the package is not known. */
export function describePlugin(source: PluginSource): string {
  if (!source.package) return `the ${source.type} storage`;
  return `the ${source.type} storage (${source.package}${source.version ? ` ${source.version}` : ""})`;
}

/**
 * A plugin threw something that is not one of the contract's errors: a bug in that plugin, not the user's mistake.
 * The message names the storage type, the package and its version; the hint says where to report it.
 */
export class PluginError extends VdirsyncerError {
  readonly plugin: PluginSource;
  constructor(plugin: PluginSource, operation: string, cause: unknown) {
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super("PLUGIN", `${describePlugin(plugin)} failed in ${operation}(): ${what}`, {
      cause,
      hint: `This is a bug in ${plugin.package ?? `the ${plugin.type} storage plugin`}, not in your config; report it${
        plugin.bugs ? ` at ${plugin.bugs}` : " to its authors"
      } with the output of \`-vdebug\`.`,
      context: { operation },
    });
    this.plugin = plugin;
  }
}

/** The `code`s of Node errors that come from the machine or the network rather than from a bug. */
const ENVIRONMENT_CODES = new Set([
  "EACCES",
  "EPERM",
  "ENOSPC",
  "EDQUOT",
  "EIO",
  "EROFS",
  "EMFILE",
  "ENFILE",
  "ENOMEM",
  "EBUSY",
  "ETXTBSY",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/** The system error code behind `err` (its own `code`, or its cause's, as `fetch` wraps them), if it is one. */
export function environmentCodeOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; typeof e === "object" && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && ENVIRONMENT_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const ENVIRONMENT_HINTS: Record<string, string> = {
  EACCES: "Check the permissions of the file or folder named above.",
  EPERM: "Check the permissions of the file or folder named above.",
  EROFS: "The file system is mounted read-only.",
  ENOSPC: "The disk is full: free some space and sync again; nothing was lost.",
  EDQUOT: "The disk quota is exhausted: free some space and sync again; nothing was lost.",
  EIO: "The disk reported an input/output error: check the device.",
  EMFILE: "Too many open files: raise the limit (`ulimit -n`) or sync fewer pairs at once.",
  ENFILE: "Too many open files on the system.",
};

/**
 * The machine or the network failed (a full disk, a permission, a reset connection): neither the user's config
 * nor a bug. `systemCode` is Node's code (`ENOSPC`, `ECONNRESET`, …).
 */
export class EnvironmentError extends VdirsyncerError {
  readonly systemCode: string;
  constructor(
    systemCode: string,
    message: string,
    options?: { cause?: unknown; hint?: string; context?: ErrorContext },
  ) {
    super("ENVIRONMENT", message, {
      ...options,
      hint:
        options?.hint ??
        ENVIRONMENT_HINTS[systemCode] ??
        "The network failed: check the connection and the server, then sync again; nothing was lost.",
    });
    this.systemCode = systemCode;
  }
}

/** The host stopped the operation (a stop was requested, or its deadline passed) before it finished. */
export class StoppedError extends VdirsyncerError {
  constructor(message = "Stopped before it finished.", options?: { cause?: unknown }) {
    super("STOPPED", message, options);
  }
}

/**
 * One item cannot be read: bad encoding, binary content, no component. Names the file or href.
 * The engine reports it and syncs the other items.
 */
export class InvalidItemError extends VdirsyncerError {
  constructor(
    message: string,
    options?: { cause?: unknown; href?: string; location?: string; hint?: string },
  ) {
    super("ITEM_INVALID", message, {
      cause: options?.cause,
      hint: options?.hint,
      context: { href: options?.href, location: options?.location },
    });
  }
}
