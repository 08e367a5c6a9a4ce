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
 * What sync and metasync do when an item, or a metadata value, changed on both sides since the last sync.
 * `null` (or leaving the option out) makes such a conflict an error for that item or key.
 *
 * - `{ kind: "a wins" }`, `{ kind: "b wins" }`: one side is copied over the other.
 * - `{ kind: "command", argv }`: `argv` runs with the two versions' files appended (see
 *   {@link commandConflictResolver}); a leading `~` in the program is expanded.
 * - `{ kind: "custom", resolve }`: code decides.
 *
 * metasync supports only the first two; with the others it warns and reports the conflict, as vdirsyncer does.
 */
export type ConflictResolution =
  | { readonly kind: "a wins" }
  | { readonly kind: "b wins" }
  | { readonly kind: "command"; readonly argv: readonly [string, ...string[]] }
  | { readonly kind: "custom"; readonly resolve: ConflictResolver };

const INVALID_HINT =
  'Pass null, { kind: "a wins" }, { kind: "b wins" }, { kind: "command", argv: ["program", "arg", …] } or ' +
  '{ kind: "custom", resolve: (a, b, context) => item }; config files are turned into these by @vdirsyncer/config.';

/**
 * Checks a conflict resolution handed in from code that the type system could not check (plain JavaScript,
 * `as` casts) and returns it; `undefined` counts as `null`.
 * @throws {UserError} `Invalid conflict resolution: …`, the one message for every wrong value
 */
export function checkConflictResolution(value: unknown): ConflictResolution | null {
  if (value === null || value === undefined) return null;
  const r = value as Partial<Record<string, unknown>>;
  const ok =
    typeof value === "object" &&
    (r.kind === "a wins" ||
      r.kind === "b wins" ||
      (r.kind === "command" &&
        Array.isArray(r.argv) &&
        r.argv.length > 0 &&
        r.argv.every((x) => typeof x === "string") &&
        r.argv[0] !== "") ||
      (r.kind === "custom" && typeof r.resolve === "function"));
  if (!ok) {
    throw new UserError(`Invalid conflict resolution: ${describeValue(value)}.`, { hint: INVALID_HINT });
  }
  return value as ConflictResolution;
}

// The value's shape for the message; a command line is not printed, it may hold a secret.
function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "function") return "a function";
  if (typeof value !== "object") return `${typeof value} ${String(value)}`;
  const kind = (value as { kind?: unknown }).kind;
  return kind === undefined
    ? "an object without kind"
    : `kind ${JSON.stringify(kind) ?? String(kind)} with wrong fields`;
}

/**
 * Turns a conflict resolution into the function sync calls, or `null` for "conflicts are errors".
 * @throws {UserError} the value is not a {@link ConflictResolution} (see {@link checkConflictResolution})
 */
export function toConflictResolver(
  resolution: ConflictResolution | null | undefined,
): ConflictResolver | null {
  const checked = checkConflictResolution(resolution);
  if (checked === null) return null;
  switch (checked.kind) {
    case "a wins":
      return (a) => a;
    case "b wins":
      return (_a, b) => b;
    case "command":
      return commandConflictResolver(checked.argv);
    case "custom":
      return checked.resolve;
  }
}

/** A short description for messages and dry runs: `a wins`, `b wins`, `command vimdiff -d`, `custom`. */
export function describeConflictResolution(resolution: ConflictResolution | null | undefined): string {
  if (resolution === null || resolution === undefined) return "none";
  return resolution.kind === "command" ? `command ${resolution.argv.join(" ")}` : resolution.kind;
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
