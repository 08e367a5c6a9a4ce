/**
 * vdirsyncer's href handling on top of Python's `urllib.parse` (ported in `@vdirsyncer/core/compat`): status rows
 * are looked up by href, so one differing byte means a resync.
 */
import { pyQuote, pyUnquote, pyUrljoin, pyUrlsplit } from "@vdirsyncer/core/compat";

/**
 * vdirsyncer's `_normalize_href(base, href)`: `quote(unquote(urlsplit(urljoin(base, href)).path), "/@")`.
 * @throws {Error} `href` is empty (vdirsyncer raises ValueError)
 */
export function normalizeHref(base: string, href: string): string {
  if (!href) throw new Error("An empty href cannot be normalised.");
  const joined = pyUrljoin(base, href);
  return pyQuote(pyUnquote(pyUrlsplit(joined).path), "/@");
}

const SAFE_UID = /^[A-Za-z0-9_.+-]+$/;

/**
 * vdirsyncer's `generate_href(ident)`: the ident itself when every character is in `[A-Za-z0-9_.+-]`,
 * else a random uuid4 (hex with dashes).
 */
export function generateHref(ident: string | undefined): string {
  if (ident && SAFE_UID.test(ident)) return ident;
  return crypto.randomUUID();
}
