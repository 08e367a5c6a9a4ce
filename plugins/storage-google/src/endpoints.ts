/**
 * Google's OAuth and DAV endpoints (spec/dav.md, Google), and the test-only override that points them at a local
 * stand-in, because Google itself cannot be reached from the test machines.
 */
import { UserError } from "@vdirsyncer/core";

/** Where the Google storages send their requests. */
export interface GoogleEndpoints {
  /** OAuth authorization endpoint, opened in the browser. */
  authorize: string;
  /** OAuth token endpoint: code exchange and refresh. */
  token: string;
  /** CalDAV base: the account's calendars are listed here, as `<base><calendarId>/events/`. */
  caldav: string;
  /** CardDAV well-known URL: discovery is one PROPFIND Depth 1 here. */
  carddav: string;
}

/** Google's real endpoints. */
export const GOOGLE_ENDPOINTS: Readonly<GoogleEndpoints> = Object.freeze({
  authorize: "https://accounts.google.com/o/oauth2/v2/auth",
  token: "https://www.googleapis.com/oauth2/v4/token",
  caldav: "https://apidata.googleusercontent.com/caldav/v2/",
  carddav: "https://www.googleapis.com/.well-known/carddav",
});

/** OAuth scopes of the two storage types, as vdirsyncer asks for them. */
export const GOOGLE_SCOPES = Object.freeze({
  calendar: "https://www.googleapis.com/auth/calendar",
  addressbook: "https://www.googleapis.com/auth/carddav",
});

/**
 * **Test only.** The environment variable that replaces some or all endpoints: a JSON object with any of the
 * keys of {@link GoogleEndpoints}, e.g. `{"token":"http://127.0.0.1:8080/token"}`. It exists so that the real
 * plugin code can run against a local stand-in; a config never needs it.
 */
export const ENDPOINTS_ENV = "VDIRSYNCER_GOOGLE_ENDPOINTS";

/**
 * The endpoints to use: Google's, overridden by {@link ENDPOINTS_ENV} when it is set.
 *
 * MUST warn when an override is active: tokens and data then go somewhere other than Google.
 * @throws {UserError} the variable is not a JSON object of URL strings with known keys
 */
export function resolveEndpoints(
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = () => {},
): GoogleEndpoints {
  const raw = env[ENDPOINTS_ENV];
  if (raw === undefined || raw === "") return { ...GOOGLE_ENDPOINTS };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (cause) {
    throw new UserError(`${ENDPOINTS_ENV} must be a JSON object of endpoint URLs.`, { cause });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UserError(`${ENDPOINTS_ENV} must be a JSON object of endpoint URLs.`);
  }
  const result: GoogleEndpoints = { ...GOOGLE_ENDPOINTS };
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in GOOGLE_ENDPOINTS)) {
      throw new UserError(
        `${ENDPOINTS_ENV} has an unknown key ${JSON.stringify(key)}; known keys: ${Object.keys(GOOGLE_ENDPOINTS).join(", ")}.`,
      );
    }
    if (typeof value !== "string" || !URL.canParse(value)) {
      throw new UserError(`${ENDPOINTS_ENV}: ${key} must be an absolute URL.`);
    }
    result[key as keyof GoogleEndpoints] = value;
  }
  warn(`${ENDPOINTS_ENV} is set: Google endpoints are replaced (test only): ${raw}`);
  return result;
}
