/** The `[general]` section. */
import { expandPath, pyDirname, pyJoin } from "@vdirsyncer/core/compat";
import { fail, jsonTypeName, type Place, PROJECT_HOME, type SectionsOrigin } from "./problems.ts";
import type { ParsedSection } from "./sections.ts";

/**
 * Checks `[general]` and returns `status_path`: `~`-expanded, normalised and joined with the config file's
 * directory, as vdirsyncer does.
 * @throws {UserError} the section is missing, has other keys or lacks `status_path` (one message listing
 *   every such problem, as vdirsyncer), or `status_path` is not a string
 */
export function validateGeneral(
  general: ParsedSection | undefined,
  origin: SectionsOrigin,
  place: Place,
): string {
  const keys = general ? [...general.values.keys()] : [];
  const invalid = keys.filter((k) => k !== "status_path");
  const problems: string[] = [];
  if (invalid.length > 0) problems.push(`general section doesn't take the parameters: ${invalid.join(", ")}`);
  if (!keys.includes("status_path")) problems.push("general section is missing the parameters: status_path");
  const where = general ? place(general.header, undefined, general.line) : place();
  if (general === undefined || problems.length > 0) {
    throw fail(
      `Invalid general section. Copy the example config from the repository and edit it: ${PROJECT_HOME}`,
      where,
      general === undefined
        ? 'Add a [general] section with status_path = "~/.vdirsyncer/status/".'
        : invalid.length > 0
          ? `Remove ${invalid.join(", ")} from [general]: it takes only status_path.`
          : 'Add status_path = "~/.vdirsyncer/status/" to [general].',
      problems,
    );
  }
  const raw = general.values.get("status_path");
  if (typeof raw !== "string") {
    throw fail(
      `Invalid value for status_path: Expected a string, found ${jsonTypeName(raw)}.`,
      place(general.header, "status_path", general.lines.get("status_path")),
      'Write the directory in double quotes: status_path = "~/.vdirsyncer/status/".',
    );
  }
  // vdirsyncer joins it with the config file's directory: a relative status_path is relative to the file.
  const expanded = expandPath(raw, { home: origin.home });
  return origin.file === undefined ? expanded : pyJoin(pyDirname(origin.file), expanded);
}
