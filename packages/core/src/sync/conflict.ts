import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expandUser } from "../compat/paths.ts";
import { UserError, VdirsyncerError } from "../errors.ts";
import { Item } from "../item/item.ts";

/** What a resolver knows about a conflict besides the two items. */
export interface ConflictContext {
  ident: string;
  /** Storage instance names of side a and b (`section` or `section/collection`). */
  nameA: string;
  nameB: string;
}

/** Decides the content both sides get when an item changed on both. */
export type ConflictResolver = (a: Item, b: Item, context: ConflictContext) => Item | Promise<Item>;

/**
 * The pair's `conflict_resolution`: `null` makes a conflict an error for that item, `"a wins"`/`"b wins"` copy
 * one side over the other, a {@link ConflictResolver} decides (see {@link commandConflictResolver} for vdirsyncer's
 * `["command", …]` form).
 */
export type ConflictResolution = null | "a wins" | "b wins" | ConflictResolver;

/**
 * Turns a `conflict_resolution` value into a resolver, or `null` for "no resolution".
 * @throws {UserError} the value is none of the accepted forms (vdirsyncer: `Invalid conflict resolution mode`)
 */
export function toConflictResolver(value: unknown): ConflictResolver | null {
  if (value === null || value === undefined) return null;
  if (value === "a wins") return (a) => a;
  if (value === "b wins") return (_a, b) => b;
  if (typeof value === "function") return value as ConflictResolver;
  if (Array.isArray(value) && value[0] === "command" && value.length >= 2) {
    return commandConflictResolver(value.slice(1) as string[]);
  }
  throw new UserError(`Invalid conflict resolution mode: ${JSON.stringify(value)}`, {
    hint: 'Use null, "a wins", "b wins" or ["command", "program", "args…"].',
  });
}

/** The storage section name of an instance name (`section/collection` → `section`). */
function sectionOf(name: string): string {
  const slash = name.indexOf("/");
  return slash === -1 ? name : name.slice(0, slash);
}

/**
 * vdirsyncer's `["command", prog, args…]` resolution: both versions are written to a temporary folder, in files
 * named after the two storage sections, and `prog args… <file a> <file b>` runs. When it exits 0 and both files
 * are equal, their content is the result.
 * @throws {UserError} the program failed, or left two different files
 */
export function commandConflictResolver(argv: readonly string[]): ConflictResolver {
  const [prog, ...args] = argv;
  if (prog === undefined || prog === "") throw new UserError("The conflict resolution command is empty.");
  return async (a, b, context) => {
    const dir = await mkdtemp(join(tmpdir(), "vdirsyncer-conflict."));
    try {
      let nameA = sectionOf(context.nameA);
      let nameB = sectionOf(context.nameB);
      // Same section on both sides can only happen when one pair syncs a storage with itself.
      if (nameA === nameB) [nameA, nameB] = [`${nameA}-a`, `${nameB}-b`];
      const pathA = join(dir, nameA);
      const pathB = join(dir, nameB);
      await writeFile(pathA, a.raw);
      await writeFile(pathB, b.raw);
      await new Promise<void>((resolve, reject) => {
        execFile(expandUser(prog), [...args, pathA, pathB], (err, _stdout, stderr) => {
          if (err) {
            reject(
              new VdirsyncerError(
                "USER",
                `The conflict resolution command ${prog} failed for item ${context.ident}: ${err.message.trim()}`,
                {
                  cause: err,
                  hint: stderr.trim()
                    ? `It said: ${stderr.trim().split("\n")[0]}`
                    : "Run the command by hand on two files to check it.",
                },
              ),
            );
          } else resolve();
        });
      });
      const [resultA, resultB] = await Promise.all([readFile(pathA, "utf8"), readFile(pathB, "utf8")]);
      if (resultA !== resultB) throw new UserError("The two files are not completely equal.");
      return new Item(resultA);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
