/**
 * The options of `google_calendar` and `google_contacts` (spec/config.md §7.6), spelled as in the config file. The
 * calendar filters (`start_date`, `end_date`, `item_types`) are checked by storage-caldav's own schema, so both
 * types accept and refuse exactly the same values.
 */
import { CaldavOptions } from "@vdirsyncer/storage-caldav";
import { z } from "zod";

/** The keys both Google types take. */
const commonShape = {
  /** Where the OAuth token is kept (created by the first authorisation); `~` is expanded. */
  token_file: z.string().min(1),
  /** The OAuth client of type "Desktop app", from the Google Cloud console. */
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  /**
   * The collection's URL. Discovery sets it (vdirsyncer does the same, as `url` in the collection's arguments);
   * it is not meant to be written in a config.
   */
  url: z.url().nullable().optional(),
};

function unknownKeys(type: string) {
  return (issue: { code?: string; keys?: string[] }) =>
    issue.code === "unrecognized_keys"
      ? `${type} storage doesn't take the parameters: ${(issue.keys ?? []).join(", ")}`
      : undefined;
}

/** The validated options of a `google_contacts` storage. */
export const GoogleContactsOptions = z.strictObject(commonShape, { error: unknownKeys("google_contacts") });
/** The options a `google_contacts` storage works with. */
export type GoogleContactsOptions = z.output<typeof GoogleContactsOptions>;

/** The validated options of a `google_calendar` storage. */
export const GoogleCalendarOptions = z
  .strictObject(
    {
      ...commonShape,
      start_date: z.custom<string | null>().optional(),
      end_date: z.custom<string | null>().optional(),
      item_types: z.custom<string[] | null>().optional(),
    },
    { error: unknownKeys("google_calendar") },
  )
  .superRefine((value, ctx) => {
    // Reuse caldav's checks (and messages) for the filters by handing them to its schema with a dummy URL.
    const filters: Record<string, unknown> = { url: "https://calendar.invalid/" };
    for (const key of ["start_date", "end_date", "item_types"] as const) {
      if (value[key] !== undefined) filters[key] = value[key];
    }
    const checked = CaldavOptions.safeParse(filters);
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
      }
    }
  });
/** The options a `google_calendar` storage works with. */
export type GoogleCalendarOptions = z.output<typeof GoogleCalendarOptions>;
