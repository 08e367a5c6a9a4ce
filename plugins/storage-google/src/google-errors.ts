/**
 * What Google's JSON error bodies say beyond the status (`{"error": {"message", "errors": [{domain, reason}],
 * "details": [{reason}]}}`), read for `@vdirsyncer/dav`'s `interpretError` hook: quota refusals (retried for every
 * method, as vdirsyncer 0.21 does), a disabled API, and Google's own message in ours.
 */
import type { ErrorInterpretation } from "@vdirsyncer/dav";

/** Hint of a Google 403 that says the API is not enabled for the OAuth client's project. */
export const API_DISABLED_HINT =
  "Enable the CalDAV API (calendars) or the CardDAV API (contacts) for the OAuth client's project in the Google Cloud console.";

interface GoogleErrorBody {
  error?: {
    message?: unknown;
    errors?: { domain?: unknown; reason?: unknown }[];
    details?: { reason?: unknown }[];
  };
}

/** Reasons Google gives in a 403 body when a quota, not a permission, is the problem. */
const QUOTA_REASONS = new Set([
  "usageLimits",
  "rateLimitExceeded",
  "userRateLimitExceeded",
  "quotaExceeded",
  "dailyLimitExceeded",
]);
/** Reasons Google gives when the API is not enabled for the OAuth client's project. */
const DISABLED_REASONS = new Set(["accessNotConfigured", "SERVICE_DISABLED"]);

/** Google's JSON error, if the body is one: its message and every domain and reason in it. */
export function parseGoogleError(
  body: string,
): { message: string | undefined; reasons: string[] } | undefined {
  if (!body.trimStart().startsWith("{")) return undefined;
  let error: GoogleErrorBody["error"];
  try {
    error = (JSON.parse(body) as GoogleErrorBody)?.error;
  } catch {
    return undefined;
  }
  if (typeof error !== "object" || error === null) return undefined;
  const reasons: string[] = [];
  for (const e of Array.isArray(error.errors) ? error.errors : []) {
    if (typeof e?.domain === "string") reasons.push(e.domain);
    if (typeof e?.reason === "string") reasons.push(e.reason);
  }
  for (const d of Array.isArray(error.details) ? error.details : []) {
    if (typeof d?.reason === "string") reasons.push(d.reason);
  }
  return { message: typeof error.message === "string" ? error.message : undefined, reasons };
}

/**
 * The `interpretError` hook of the Google sessions: a 403 with a quota reason is a quota refusal; a disabled API
 * gets {@link API_DISABLED_HINT}; a 401/403 carries Google's message. Anything else: `undefined`.
 */
export function interpretGoogleError(response: {
  status: number;
  body: string;
}): ErrorInterpretation | undefined {
  if (response.status !== 401 && response.status !== 403) return undefined;
  const google = parseGoogleError(response.body);
  if (google === undefined) return undefined;
  const out: ErrorInterpretation = {};
  if (response.status === 403 && google.reasons.some((r) => QUOTA_REASONS.has(r))) out.quota = true;
  else if (google.reasons.some((r) => DISABLED_REASONS.has(r))) out.hint = API_DISABLED_HINT;
  if (google.message && !out.quota) out.detail = google.message;
  return Object.keys(out).length > 0 ? out : undefined;
}
