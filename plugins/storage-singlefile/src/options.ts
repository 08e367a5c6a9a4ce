/**
 * The options of `[storage NAME]` sections with `type = "singlefile"`, spelled as in the config file.
 */
import { UserError } from "@vdirsyncer/core";
import { z } from "zod";
import { type Codec, findCodec, SUPPORTED_ENCODINGS } from "./codec.ts";

/** The options of `[storage NAME]` with `type = "singlefile"`. Unknown keys are refused. */
export const SingleFileOptions = z.strictObject({
  /** The `.ics`/`.vcf` file; with collections it holds exactly one `%s`, replaced by the collection name. */
  path: z.string().min(1),
  /** The file's text encoding. @default "utf-8" */
  encoding: z
    .string()
    .default("utf-8")
    .refine((encoding) => findCodec(encoding) !== undefined, {
      message: `Unsupported encoding; use one of ${SUPPORTED_ENCODINGS.join(", ")}.`,
    }),
});

/** The options a singlefile storage works with, after defaults (`path` as written). */
export type SingleFileOptions = z.output<typeof SingleFileOptions>;

/**
 * The codec of the `encoding` option.
 * @throws {UserError} an encoding the schema would have refused (for callers that skip validation)
 */
export function codecOf(options: SingleFileOptions): Codec {
  const codec = findCodec(options.encoding);
  if (codec === undefined) throw new UserError(`Unsupported encoding: ${options.encoding}`);
  return codec;
}
