/**
 * The options of `[storage NAME]` sections with `type = "filesystem"`, spelled as in the config file.
 */
import { z } from "zod";
import { resolveCodec, UnknownEncodingError } from "./codec.ts";

const hook = z.string().min(1).nullable().default(null);

/** The validated options of a filesystem storage. */
export const FilesystemOptions = z.strictObject(
  {
    /**
     * A vdir (with `collections = null`) or a folder of vdirs, as written: `~` is expanded and a relative path is
     * taken from the working directory when the storage uses it, as vdirsyncer does, so that the collection
     * configs it reports are the ones vdirsyncer caches.
     */
    path: z.string().min(1),
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

/** The options a filesystem storage works with, after defaults (`path` as written). */
export type FilesystemOptions = z.output<typeof FilesystemOptions>;
