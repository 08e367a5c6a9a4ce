import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made = new Set<string>();
let exitHookInstalled = false;

/**
 * Creates an empty temporary directory under `os.tmpdir()` and returns its path.
 *
 * The directory is removed after the run: by {@link removeFreshDirs} (which `describeStorage` calls in an
 * `afterAll`), and at the latest when the process exits.
 */
export async function freshDir(prefix = "vdirsyncer-suite-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Last resort for directories made outside describeStorage; exit handlers must be synchronous.
    process.once("exit", () => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/** Removes every directory {@link freshDir} made so far. */
export async function removeFreshDirs(): Promise<void> {
  const dirs = [...made];
  made.clear();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}
