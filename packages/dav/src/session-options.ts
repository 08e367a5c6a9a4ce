/**
 * The session keys every DAV-based storage takes in its config section (spec/config.md §7.3–§7.6), spelled as in
 * the config file and checked with vdirsyncer's messages, and their translation into {@link DavSessionOptions}.
 * caldav, carddav and http build their option schemas from these.
 */
import type { Logger } from "@vdirsyncer/core";
import { expandPath, pyRepr } from "@vdirsyncer/core/compat";
import { z } from "zod";
import pkg from "../package.json" with { type: "json" };
import type { DavSessionOptions } from "./api.ts";
import { hasUserInfo, userInfoInUrlMessage } from "./http-errors.ts";

/** The `User-Agent` sent when `useragent` is not set; the `vdirsyncer/` prefix is what servers and tests know. */
export const DEFAULT_USERAGENT = `vdirsyncer/${pkg.version}`;

const FINGERPRINT = /^[0-9a-f]{64}$/i;

/**
 * The session keys every DAV storage takes, as a zod shape. Keys whose vdirsyncer messages must be kept word for
 * word (`auth`, `verify`, `verify_fingerprint`, `auth_cert`) accept anything here and are checked by
 * {@link checkSessionOptions}, so that the message is not prefixed with a field path.
 */
export const sessionOptionsShape = {
  /** A base, principal, home-set or collection URL. */
  url: z.string().min(1),
  username: z.string().nullable().optional(),
  password: z.string().nullable().optional(),
  auth: z.custom<"basic" | "digest" | null>().optional(),
  verify: z.custom<string | null>().optional(),
  verify_fingerprint: z.custom<string | null>().optional(),
  auth_cert: z.custom<string | [string, string] | null>().optional(),
  useragent: z.string().nullable().optional(),
  /** Ours: seconds before one request is given up (and retried when that is safe). */
  timeout: z.number().positive().nullable().optional(),
  /** Ours: attempts in all for a request that may be retried (1 = no retries). */
  max_attempts: z.number().int().min(1).nullable().optional(),
  /** Ours: hrefs per multiget REPORT. */
  multiget_batch_size: z.number().int().min(1).nullable().optional(),
  /** Ours: multiget REPORTs in flight at once. */
  multiget_concurrency: z.number().int().min(1).nullable().optional(),
};

/** The session part of a validated caldav, carddav or http configuration. */
export interface SessionOptions {
  url: string;
  username?: string | null;
  password?: string | null;
  auth?: "basic" | "digest" | null;
  verify?: string | null;
  verify_fingerprint?: string | null;
  auth_cert?: string | [string, string] | null;
  useragent?: string | null;
  timeout?: number | null;
  max_attempts?: number | null;
  multiget_batch_size?: number | null;
  multiget_concurrency?: number | null;
}

/**
 * Checks the session keys with vdirsyncer's messages (`http.py` `prepare_auth`, `prepare_verify`), for use in a
 * zod `superRefine` of a schema built on {@link sessionOptionsShape}. Issues have an empty path, so that the CLI
 * prints the message as it is.
 */
export function checkSessionOptions(value: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const problem = (message: string) => ctx.addIssue({ code: "custom", message, path: [] });
  const { url, auth, username, password, verify, verify_fingerprint: fingerprint, auth_cert: cert } = value;

  // fetch refuses a URL with credentials, and error messages would print it: refused here, once, redacted.
  if (typeof url === "string" && hasUserInfo(url)) problem(userInfoInUrlMessage(url));

  // prepare_auth: the method is only looked at when both credentials are non-empty.
  if (auth !== undefined && auth !== null && typeof auth !== "string") {
    problem(`Unknown authentication method: ${pyRepr(auth)}`);
  } else if (username && password) {
    if (auth === "guess") {
      problem(
        "'Guess' authentication is not supported in this version of vdirsyncer. " +
          "Please explicitly specify either 'basic' or 'digest' auth instead. " +
          "See the following issue for more information: https://github.com/pimutils/vdirsyncer/issues/1015",
      );
    } else if (auth !== undefined && auth !== null && auth !== "basic" && auth !== "digest") {
      problem(`Unknown authentication method: ${auth}`);
    }
  } else if (auth) {
    problem(`You need to specify username and password for ${auth} authentication.`);
  }

  if (verify !== undefined && verify !== null && typeof verify !== "string") {
    problem(`Invalid value for verify (${pyRepr(verify)}), must be a path to a PEM-file.`);
  }
  if (fingerprint !== undefined && fingerprint !== null) {
    if (typeof fingerprint !== "string") {
      problem(`Invalid value for verify_fingerprint (${pyRepr(fingerprint)}), must be a string.`);
    } else if (!FINGERPRINT.test(fingerprint.replaceAll(":", ""))) {
      // vdirsyncer fails later, at the first connection; MD5 and SHA-1 pins are refused by length.
      problem(
        `Invalid value for verify_fingerprint (${pyRepr(fingerprint)}), must be the SHA-256 fingerprint ` +
          "of the server certificate: 64 hex digits, colons allowed.",
      );
    }
  }
  const isPath = (x: unknown) => typeof x === "string" && x !== "";
  if (
    cert !== undefined &&
    cert !== null &&
    !isPath(cert) &&
    !(Array.isArray(cert) && cert.length === 2 && cert.every(isPath))
  ) {
    problem(
      `Invalid value for auth_cert (${pyRepr(cert)}), must be a path to a PEM file with the certificate and ` +
        'its key, or a list ["cert.pem", "key.pem"].',
    );
  }
}

// Certificate files: `~` expanded and made absolute, as vdirsyncer's `expand_path` (plus the working directory).
const certPath = (path: string) => expandPath(path, { absolute: true });

/**
 * Builds the `@vdirsyncer/dav` session options from validated config options.
 *
 * MUST warn (and then use no authentication, as vdirsyncer does) when a username comes without a password.
 */
export function toDavSessionOptions(
  options: SessionOptions,
  ctx: { instance: string; log: Logger; signal?: AbortSignal },
): DavSessionOptions {
  const { username, password } = options;
  if (username && !password) {
    // vdirsyncer quirk, kept (config.md §11): a username without a password silently means no auth. We say so.
    ctx.log.warn(
      `Storage ${ctx.instance}: a username is set but no password, so requests are sent without authentication.`,
    );
  }
  const cert = options.auth_cert;
  const session: DavSessionOptions = {
    url: options.url,
    useragent: options.useragent ?? DEFAULT_USERAGENT,
    auth: options.auth ?? null,
    verify: options.verify == null ? null : certPath(options.verify),
    verifyFingerprint: options.verify_fingerprint ?? null,
    authCert:
      cert == null
        ? null
        : typeof cert === "string"
          ? certPath(cert)
          : [certPath(cert[0]), certPath(cert[1])],
    log: ctx.log,
  };
  if (username && password) {
    session.username = username;
    session.password = password;
  }
  if (options.timeout != null) session.timeoutMs = Math.round(options.timeout * 1000);
  if (options.max_attempts != null) session.maxAttempts = options.max_attempts;
  if (ctx.signal !== undefined) session.signal = ctx.signal;
  return session;
}
