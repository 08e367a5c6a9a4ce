/** A section after its values are parsed, as the general, pair and storage checks read it. */
import type { ConfigSource, JsonValue } from "./model.ts";
import type { SectionsOrigin } from "./problems.ts";

/** A section with its values parsed, in the order written. */
export interface ParsedSection {
  header: string;
  line: number | undefined;
  values: Map<string, JsonValue>;
  lines: Map<string, number | undefined>;
}

/** The section's {@link ConfigSource}, for messages later on (the key lines only for INI files). */
export function sourceOf(s: ParsedSection, origin: SectionsOrigin): ConfigSource {
  const lines: Record<string, number> = {};
  for (const [k, l] of s.lines) if (l !== undefined) lines[k] = l;
  return {
    file: origin.file,
    section: s.header,
    ...(s.line === undefined ? {} : { line: s.line }),
    ...(origin.format === "ini" ? { lines } : {}),
  };
}

/** The `NAME` of `[pair NAME]` or `[storage NAME]`. */
export function sectionName(s: ParsedSection): string {
  return s.header.slice(s.header.indexOf(" ") + 1);
}
