/**
 * vdirsyncer's generic HTTP layer retries a 403 whose JSON body names the `usageLimits` domain (a quota answer of
 * Google's, e.g. from a public Google Calendar feed) like a 429. The http storage keeps that through dav's
 * `interpretError` hook.
 */
import type { ErrorInterpretation } from "@vdirsyncer/dav";

/** `{quota: true}` for a 403 whose JSON body has an `error.errors[].domain` of `usageLimits`. */
export function interpretFeedError(response: {
  status: number;
  body: string;
}): ErrorInterpretation | undefined {
  if (response.status !== 403 || !response.body.trimStart().startsWith("{")) return undefined;
  try {
    const errors = (JSON.parse(response.body) as { error?: { errors?: { domain?: unknown }[] } })?.error
      ?.errors;
    const limited = Array.isArray(errors) && errors.some((e) => e?.domain === "usageLimits");
    return limited ? { quota: true } : undefined;
  } catch {
    return undefined;
  }
}
