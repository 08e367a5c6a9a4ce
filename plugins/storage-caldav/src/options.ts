/**
 * The options of `[storage NAME]` sections with `type = "caldav"` (config.md §7.3), spelled as in the config file:
 * the DAV session keys of `@vdirsyncer/dav` plus the calendar filters.
 */
import { pyRepr } from "@vdirsyncer/core/compat";
import { checkSessionOptions, sessionOptionsShape } from "@vdirsyncer/dav";
import { z } from "zod";
import { checkDateRange, DateExpressionError } from "./date-expression.ts";

/** The message of a `start_date`/`end_date` given alone, word for word from vdirsyncer. */
export const DATES_TOGETHER = "If start_date is given, end_date has to be given too.";

/** The validated options of a caldav storage. */
export const CaldavOptions = z
  .strictObject(
    {
      ...sessionOptionsShape,
      /** A Python-like date expression (see date-expression.ts); both or neither. */
      start_date: z.custom<string | null>().optional(),
      end_date: z.custom<string | null>().optional(),
      /** Component names: one calendar-query per type instead of a PROPFIND listing. */
      item_types: z.custom<string[]>().optional(),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `caldav storage doesn't take the parameters: ${issue.keys.join(", ")}`
          : undefined,
    },
  )
  .superRefine((value, ctx) => {
    checkSessionOptions(value, ctx);
    const problem = (message: string) => ctx.addIssue({ code: "custom", message, path: [] });
    const { item_types: types, start_date: start, end_date: end } = value;
    if (types !== undefined && types !== null) {
      if (!Array.isArray(types)) problem("item_types must be a list.");
      else if (!types.every((t) => typeof t === "string" && /^[A-Za-z][A-Za-z0-9-]*$/.test(t))) {
        problem(`item_types must be a list of component names such as "VEVENT", not ${pyRepr(types)}.`);
      }
    }
    if ((start == null) !== (end == null)) {
      problem(DATES_TOGETHER);
    } else if (start != null && end != null) {
      if (typeof start !== "string" || typeof end !== "string") {
        problem(`start_date and end_date must be strings such as "datetime.now() - timedelta(days=365)".`);
      } else {
        try {
          checkDateRange(start, end);
        } catch (err) {
          if (!(err instanceof DateExpressionError)) throw err;
          problem(err.message);
        }
      }
    }
  });

/** The options a caldav storage works with. */
export type CaldavOptions = z.output<typeof CaldavOptions>;
