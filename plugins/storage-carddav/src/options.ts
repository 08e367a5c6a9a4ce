/**
 * The options of `[storage NAME]` sections with `type = "carddav"` (config.md §7.4): the DAV session keys of
 * `@vdirsyncer/dav` (as `caldav` takes them), plus `use_vcard_4`.
 */
import { checkSessionOptions, sessionOptionsShape } from "@vdirsyncer/dav";
import { z } from "zod";

/** The validated options of a carddav storage. */
export const CarddavOptions = z
  .strictObject(
    {
      ...sessionOptionsShape,
      /** Ask the server for vCard 4.0 in multiget requests. */
      use_vcard_4: z.boolean().default(false),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `carddav storage doesn't take the parameters: ${issue.keys.join(", ")}`
          : undefined,
    },
  )
  .superRefine((value, ctx) => checkSessionOptions(value, ctx));

/** The options a carddav storage works with. */
export type CarddavOptions = z.output<typeof CarddavOptions>;
