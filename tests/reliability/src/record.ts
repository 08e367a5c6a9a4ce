/**
 * Figures for docs/reliability.md: when `VDIRSYNCER_RELIABILITY_RECORD` names a folder, each test records what
 * it measured there (one JSON file per section and case), and `node bench/crash-harness.mjs --report` puts
 * them into the table. Without it, nothing is written.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Records `figures` for `name` in `section`, if recording is on. */
export function record(section: string, name: string, figures: Record<string, unknown>): void {
  const dir = process.env.VDIRSYNCER_RELIABILITY_RECORD;
  if (dir === undefined || dir === "") return;
  mkdirSync(dir, { recursive: true });
  const file = `${section}--${name.replace(/[^A-Za-z0-9_-]+/g, "_")}.json`;
  writeFileSync(join(dir, file), `${JSON.stringify({ section, name, ...figures }, null, 2)}\n`);
}

/** Everything recorded in `dir`, by section. */
export function recorded(dir: string): Map<string, Record<string, unknown>[]> {
  const out = new Map<string, Record<string, unknown>[]>();
  let names: string[] = [];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .sort();
  } catch {
    return out;
  }
  for (const n of names) {
    const value = JSON.parse(readFileSync(join(dir, n), "utf8")) as Record<string, unknown>;
    const section = String(value.section);
    const list = out.get(section) ?? [];
    list.push(value);
    out.set(section, list);
  }
  return out;
}
