/**
 * Error types shared by the engine, the plugins and the CLI.
 *
 * Every error carries a stable `code`. Use {@link isVdirsyncerError} rather than `instanceof`: a plugin may
 * bundle its own copy of core, and the code still matches.
 */

/** The stable codes of {@link VdirsyncerError}. */
export type ErrorCode =
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
  | "LOCKED";

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
