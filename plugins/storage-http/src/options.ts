/**
 * The options of `[storage NAME]` sections with `type = "http"` (spec/config.md §7.5), spelled as in the config
 * file. The session keys and their vdirsyncer messages come from `@vdirsyncer/dav`, so http and the DAV storages
 * validate `auth`, `verify`, `verify_fingerprint` and `auth_cert` alike.
 */
import { checkSessionOptions, sessionOptionsShape } from "@vdirsyncer/dav";
import { z } from "zod";

/** vdirsyncer's message for `read_only = false` on a storage that can only read (`storage/base.py`). */
export const READ_ONLY_ONLY = "This storage can only be read-only.";

// The multiget keys of the DAV session shape mean nothing for one GET; everything else applies as for caldav.
const { multiget_batch_size: _batch, multiget_concurrency: _concurrency, ...session } = sessionOptionsShape;

/**
 * Turns `webcal://` and `webcals://` into `https://`, as calendar programs do: `webcal` only says "subscribe to
 * this", and almost every feed behind one is served over TLS (Google, Outlook, iCloud). vdirsyncer's docs tell
 * users to rewrite the scheme themselves; we accept both.
 */
export function normalizeFeedUrl(url: string): string {
  return url.replace(/^webcals?:\/\//i, "https://");
}

/** The validated options of an http storage. */
export const HttpOptions = z
  .strictObject(
    {
      ...session,
      /** The feed: an `.ics` or `.vcf` URL; `webcal://` and `webcals://` are read as `https://`. */
      url: z.string().min(1).transform(normalizeFeedUrl),
      /** A command that gets each item on stdin; its stdout replaces the item, empty stdout drops it. */
      filter_hook: z.string().min(1).nullable().optional(),
      /**
       * Only `true` (or absent) is accepted. The CLI consumes `read_only` itself; the key is here so that a host
       * that passes it on gets vdirsyncer's message for `false`.
       */
      read_only: z.custom<unknown>().optional(),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `http storage doesn't take the parameters: ${issue.keys.join(", ")}`
          : undefined,
    },
  )
  .superRefine((value, ctx) => {
    // vdirsyncer: `read_only` None means the class default; anything falsy on a read-only class is refused.
    if (value.read_only !== undefined && value.read_only !== null && !value.read_only) {
      ctx.addIssue({ code: "custom", message: READ_ONLY_ONLY, path: [] });
    }
    checkSessionOptions(value, ctx);
  });

/** The options an http storage works with. */
export type HttpOptions = z.output<typeof HttpOptions>;
