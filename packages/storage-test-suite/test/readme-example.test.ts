/**
 * The storage written out in @vdirsyncer/core's README ("Write your own storage") passes the suite, and the
 * README shows exactly this file, so the example cannot drift from what is tested.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { describeStorage } from "../src/index.ts";
import notes from "./fixtures/readme-notes.ts";

const here = dirname(fileURLToPath(import.meta.url));

// It keeps nothing between instances: declared, so the persistence group checks exactly that.
describeStorage(notes, { options: () => ({}), persistent: false });

test("packages/core/README.md shows the tested example verbatim", () => {
  const readme = readFileSync(join(here, "..", "..", "core", "README.md"), "utf8");
  const example = readFileSync(join(here, "fixtures", "readme-notes.ts"), "utf8");
  expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
});
