/**
 * The options of `[storage NAME]` sections with `type = "filesystem"`, spelled as in the config file.
 */
import { expandPath as expandUserPath } from "@vdirsyncer/core/compat";
import { z } from "zod";
import { resolveCodec, UnknownEncodingError } from "./codec.ts";

/** vdirsyncer's `expand_path`, made absolute (no `..`, no trailing slash); `~user` forms are left as they are. */
export function expandPath(path: string): string {
  return expandUserPath(path, { absolute: true });
}

const hook = z.string().min(1).nullable().default(null);

/** The validated options of a filesystem storage. */
export const FilesystemOptions = z.strictObject(
  {
    /** A vdir (with `collections = null`) or a folder of vdirs. */
    path: z.string().min(1).transform(expandPath),
    /** The suffix of item files, e.g. `.ics`; part of every href. */
    fileext: z.string(),
    /** The encoding of item and metadata files; decoding is strict. */
    encoding: z
      .string()
      .default("utf-8")
      .superRefine((label, ctx) => {
        try {
          resolveCodec(label);
        } catch (err) {
          if (!(err instanceof UnknownEncodingError)) throw err;
          ctx.addIssue({ code: "custom", message: err.message });
        }
      }),
    /** Runs `[post_hook, <file>]` after each upload or update. */
    post_hook: hook,
    /** Runs `[pre_deletion_hook, <file>]` before each delete. */
    pre_deletion_hook: hook,
    /** Files whose names end with this are never items; `""` ignores nothing. */
    fileignoreext: z.string().default(".tmp"),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `filesystem storage doesn't take the parameters: ${issue.keys.join(", ")}`
        : undefined,
  },
);

/** The options a filesystem storage works with, after defaults and `~` expansion. */
export type FilesystemOptions = z.output<typeof FilesystemOptions>;
