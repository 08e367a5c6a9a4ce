// A sync holds its status file exclusively, so a Python vdirsyncer on the same pair fails at its start instead of
// racing ours (the race duplicated items by the thousand), and ours fails at its start while Python holds it.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { describe, expect, it } from "vitest";
import { openCollectionStatus } from "../src/index.ts";
import { firstLine, PYTHON, python, tempDir } from "./helpers.ts";

const READ_WITH_VDIRSYNCER = `
import sys
from vdirsyncer.sync.status import SqliteStatus
try:
    s = SqliteStatus(sys.argv[1])
    print("rows", len(list(s.iter_old())))
except Exception as e:
    print("error", e)
`;

const row = (ident: string) => ({
  ident,
  a: { href: `${ident}.ics`, hash: "h", etag: "e" },
  b: { href: `${ident}.ics`, hash: "h", etag: "f" },
});

describe("an exclusive status (a sync)", () => {
  it("makes Python vdirsyncer's status fail at its start while held, across commits, and read it after close", () => {
    const root = tempDir();
    const status = openCollectionStatus(root, "p", "c", { exclusive: true });
    const file = join(root, "p", "c.items");
    try {
      status.commit([row("1")]);
      status.record(row("2"));
      status.settle();
      expect(python(READ_WITH_VDIRSYNCER, file).trim()).toBe("error database is locked");
    } finally {
      status.close();
    }
    expect(python(READ_WITH_VDIRSYNCER, file).trim()).toBe("rows 2");
  });

  it("keeps a second sync of ours out with status/LOCKED, and readers too", () => {
    const root = tempDir();
    const first = openCollectionStatus(root, "p", null, { exclusive: true });
    try {
      for (const exclusive of [true, false]) {
        let code = "none";
        try {
          const reader = openCollectionStatus(root, "p", null, { exclusive, busyTimeoutMs: 50 });
          [...reader.rows()];
          reader.close();
        } catch (err) {
          code = isVdirsyncerError(err) ? err.code : String(err);
        }
        expect(code).toBe("status/LOCKED");
      }
    } finally {
      first.close();
    }
  });

  it("cannot be taken while Python vdirsyncer holds its sync transaction: ours stops before writing", async () => {
    const root = tempDir();
    openCollectionStatus(root, "p", null).close();
    const file = join(root, "p.items");
    // vdirsyncer's sync: BEGIN EXCLUSIVE TRANSACTION for the whole run (here: until stdin closes).
    const child = spawn(
      PYTHON,
      [
        "-c",
        `import sys, sqlite3
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE TRANSACTION")
print("held", flush=True)
sys.stdin.read()`,
        file,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    try {
      expect(await firstLine(child.stdout)).toBe("held");
      expect(() => openCollectionStatus(root, "p", null, { exclusive: true, busyTimeoutMs: 100 })).toThrow(
        expect.objectContaining({ code: "status/LOCKED" }),
      );
    } finally {
      child.stdin.end();
      await new Promise((r) => child.once("exit", r));
    }
    openCollectionStatus(root, "p", null, { exclusive: true }).close();
  });
});
