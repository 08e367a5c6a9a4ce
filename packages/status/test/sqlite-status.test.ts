import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { isVdirsyncerError } from "@vdirsyncer/core";
import type { StatusRow, WriteIntent } from "@vdirsyncer/core/engine";
import { describe, expect, it } from "vitest";
import { STATUS_LOCKED } from "../src/errors.ts";
import { fromLegacyStatus, toLegacyStatus } from "../src/legacy-status.ts";
import { openCollectionStatus } from "../src/open-status.ts";
import { GROUP_MS, GROUP_ROWS } from "../src/sqlite-status.ts";
import { collectingLog, firstLine, PYTHON, python, tempDir } from "./helpers.ts";

const row = (ident: string, hrefA: string | null, hrefB: string | null, hash = `h-${ident}`): StatusRow => ({
  ident,
  a: { href: hrefA, hash, etag: hrefA === null ? null : `ea-${ident}` },
  b: { href: hrefB, hash, etag: hrefB === null ? null : `eb-${ident}` },
});

function schemaOf(path: string): { type: string; name: string; sql: string | null }[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare("SELECT type, name, sql FROM sqlite_master WHERE name <> 'vdirsyncer_ts_state' ORDER BY name")
      .all() as { type: string; name: string; sql: string | null }[];
  } finally {
    db.close();
  }
}

describe("openCollectionStatus", () => {
  it("creates exactly the schema vdirsyncer creates", () => {
    const dir = tempDir();
    openCollectionStatus(dir, "p", "c").close();
    python(
      "from vdirsyncer.sync.status import SqliteStatus; import sys; SqliteStatus(sys.argv[1])",
      join(dir, "py.items"),
    );
    expect(schemaOf(join(dir, "p", "c.items"))).toEqual(schemaOf(join(dir, "py.items")));
    const db = new DatabaseSync(join(dir, "p", "c.items"));
    expect(db.prepare("SELECT * FROM meta").all()).toEqual([{ version: 1 }]);
    db.close();
  });

  it("places the file by pair and collection, with private modes", () => {
    const dir = join(tempDir(), "status");
    openCollectionStatus(dir, "p", null).close();
    openCollectionStatus(dir, "p", "Kalender ü").close();
    expect(statSync(join(dir, "p.items")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "p", "Kalender ü.items")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "p")).mode & 0o777).toBe(0o700);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it("refuses a collection name that leaves the status directory", () => {
    const dir = tempDir();
    expect(() => openCollectionStatus(join(dir, "s"), "p", "../../x")).toThrow(/does not name a file inside/);
    expect(existsSync(join(dir, "x.items"))).toBe(false);
  });

  it("writes recorded rows in groups: after GROUP_MS, or at once at GROUP_ROWS", async () => {
    const dir = tempDir();
    const s = openCollectionStatus(dir, "p", "c");
    const other = openCollectionStatus(dir, "p", "c");
    s.record(row("one", "1.ics", "x1.ics"));
    expect(other.rows()).toHaveLength(0);
    await new Promise((r) => setTimeout(r, GROUP_MS + 50));
    expect(other.rows().map((r) => r.ident)).toEqual(["one"]);
    for (let i = 0; i < GROUP_ROWS; i++) s.record(row(`r${i}`, `r${i}.ics`, `y${i}.ics`));
    expect(other.rows()).toHaveLength(GROUP_ROWS + 1);
    other.close();
    s.close();
  });

  it("records rows durably and drops other rows holding the same href", () => {
    const dir = tempDir();
    const s = openCollectionStatus(dir, "p", "c");
    s.record(row("one", "1.ics", "x1.ics"));
    s.record(row("two", "2.ics", "x2.ics"));
    s.record(row("nulls", null, null));
    s.record(row("nulls2", null, null));
    // "three" takes over href_a of "one" and href_b of "two".
    s.record(row("three", "1.ics", "x2.ics"));
    s.record(row("three", "1.ics", "x3.ics", "new-hash"));
    expect(toLegacyStatus(s.rows())).toEqual(
      toLegacyStatus([
        row("nulls", null, null),
        row("nulls2", null, null),
        row("three", "1.ics", "x3.ics", "new-hash"),
      ]),
    );
    // Durable without close() once written (rows() wrote the group): a second connection sees it.
    const other = openCollectionStatus(dir, "p", "c");
    expect(other.rows()).toHaveLength(3);
    s.forget("three");
    s.flush();
    expect(
      other
        .rows()
        .map((r) => r.ident)
        .sort(),
    ).toEqual(["nulls", "nulls2"]);
    other.close();
    s.close();
  });

  it("commit replaces the whole table and leaves new_status empty", () => {
    const dir = tempDir();
    const s = openCollectionStatus(dir, "p", null);
    s.record(row("old", "o.ics", "o.ics"));
    s.commit([row("a", "a.ics", "A.ics"), row("b", "b.ics", "B.ics")]);
    expect(
      s
        .rows()
        .map((r) => r.ident)
        .sort(),
    ).toEqual(["a", "b"]);
    s.close();
    const db = new DatabaseSync(join(dir, "p.items"));
    db.exec("INSERT INTO new_status (ident) VALUES ('left over')");
    db.close();
    const t = openCollectionStatus(dir, "p", null);
    t.commit([row("c", "c.ics", "C.ics")]);
    const check = new DatabaseSync(join(dir, "p.items"));
    expect(check.prepare("SELECT count(*) AS n FROM new_status").get()).toEqual({ n: 0 });
    check.close();
    t.close();
  });

  it("says which file is closed when used after close()", () => {
    const dir = tempDir();
    const s = openCollectionStatus(dir, "p", null);
    s.close();
    s.close();
    expect(() => s.rows()).toThrow(`The status file ${join(dir, "p.items")} is closed.`);
  });

  it("commit with a duplicate href throws DUPLICATE_HREF and changes nothing", () => {
    const s = openCollectionStatus(tempDir(), "p", null);
    s.commit([row("keep", "k.ics", "k.ics")]);
    let err: unknown;
    try {
      s.commit([row("a", "same.ics", "1.ics"), row("b", "same.ics", "2.ics")]);
    } catch (e) {
      err = e;
    }
    expect(isVdirsyncerError(err, "DUPLICATE_HREF")).toBe(true);
    expect((err as Error).message).toContain("p.items");
    expect(s.rows().map((r) => r.ident)).toEqual(["keep"]);
    s.close();
  });

  it("keeps our own state in a table vdirsyncer ignores", () => {
    const dir = tempDir();
    const s = openCollectionStatus(dir, "p", "c");
    expect(s.getState("token")).toBeUndefined();
    s.setState("token", "http://example.com/sync/42");
    s.setState("ctag", "7");
    s.setState("ctag", undefined);
    s.record(row("x", "x.ics", "y.ics"));
    s.close();
    const again = openCollectionStatus(dir, "p", "c");
    expect(again.getState("token")).toBe("http://example.com/sync/42");
    expect(again.getState("ctag")).toBeUndefined();
    again.close();
    // vdirsyncer opens it as its own and reads the row.
    const out = python(
      `import sys
from vdirsyncer.sync.status import SqliteStatus
s = SqliteStatus(sys.argv[1])
print(list(s.iter_old()), s.get_a("x").to_status(), s.get_b("x").to_status())`,
      join(dir, "p", "c.items"),
    );
    expect(out.trim()).toBe(
      "['x'] {'href': 'x.ics', 'etag': 'ea-x', 'hash': 'h-x'} {'href': 'y.ics', 'etag': 'eb-x', 'hash': 'h-x'}",
    );
  });

  it("keeps write intents durably until settle or commit, in a table vdirsyncer ignores", () => {
    const dir = tempDir();
    const intents: WriteIntent[] = [
      {
        ident: "up",
        side: "b",
        kind: "upload",
        source: { href: "up.ics", hash: "h-up", etag: "e-up" },
        target: null,
      },
      {
        ident: "ünï",
        side: "a",
        kind: "update",
        source: { href: null, hash: "h", etag: null },
        target: { href: "ü.ics", etag: null },
      },
      { ident: "gone", side: "a", kind: "delete", source: null, target: { href: "g.ics", etag: "e-g" } },
    ];
    const s = openCollectionStatus(dir, "p", "c");
    expect(s.intents()).toEqual([]);
    s.record(row("x", "x.ics", "y.ics"));
    s.intend(intents);
    // A killed run: the process ends without settle(); the intents and the row queued before them survive.
    s.close();
    const again = openCollectionStatus(dir, "p", "c");
    expect(again.intents()).toEqual(intents);
    expect(again.rows().map((r) => r.ident)).toEqual(["x"]);
    // vdirsyncer opens the file as its own meanwhile.
    const out = python(
      `import sys
from vdirsyncer.sync.status import SqliteStatus
print(list(SqliteStatus(sys.argv[1]).iter_old()))`,
      join(dir, "p", "c.items"),
    );
    expect(out.trim()).toBe("['x']");
    again.record(row("up", "up.ics", "up.ics"));
    again.settle();
    expect(again.intents()).toEqual([]);
    expect(
      again
        .rows()
        .map((r) => r.ident)
        .sort(),
    ).toEqual(["up", "x"]);
    again.intend(intents.slice(0, 1));
    again.commit([row("x", "x.ics", "y.ics")]);
    expect(again.intents()).toEqual([]);
    again.close();
  });

  it("names the file when a stored intent cannot be read", () => {
    const dir = tempDir();
    const s = openCollectionStatus(dir, "p", "c");
    s.intend([{ ident: "i", side: "a", kind: "delete", source: null, target: null }]);
    s.close();
    const db = new DatabaseSync(join(dir, "p", "c.items"));
    db.exec(`UPDATE vdirsyncer_ts_intents SET intent = '{"ident": 1}'`);
    db.close();
    const again = openCollectionStatus(dir, "p", "c");
    expect(() => again.intents()).toThrow(
      `The status file ${join(dir, "p", "c.items")} holds a write intent`,
    );
    again.close();
  });

  it("writes a file that vdirsyncer reads back, unicode and NULLs included", () => {
    const dir = tempDir();
    const rows = [
      row("ünïcödé-😀", "a b/ü.ics", "/dav/cal/%C3%BC.ics"),
      row("reverted", null, "r.ics"),
      {
        ident: "u",
        a: { href: "u.ics", hash: "UNDEFINED", etag: null },
        b: { href: "u2.ics", hash: "x", etag: '"e"' },
      },
    ];
    const s = openCollectionStatus(dir, "p", "c");
    s.commit(rows);
    s.close();
    const out = python(
      `import sys, json
from vdirsyncer.sync.status import SqliteStatus
print(json.dumps(dict(SqliteStatus(sys.argv[1]).to_legacy_status())))`,
      join(dir, "p", "c.items"),
    );
    expect(JSON.parse(out)).toEqual(toLegacyStatus(rows));
  });

  it("renames an extension-less status file, with vdirsyncer's warning", () => {
    const dir = tempDir();
    python(
      `import sys
from vdirsyncer.sync.status import ItemMetadata, SqliteStatus
s = SqliteStatus(sys.argv[1])
with s.transaction():
    s.insert_ident_a("i", ItemMetadata(href="a.ics", hash="h", etag="e"))
    s.insert_ident_b("i", ItemMetadata(href="b.ics", hash="h", etag="f"))`,
      join(dir, "p"),
    );
    const log = collectingLog();
    const s = openCollectionStatus(dir, "p", null, { log });
    expect(log.warnings).toEqual([
      `Migrating statuses: Renaming ${join(dir, "p")} to ${join(dir, "p.items")}`,
    ]);
    expect(toLegacyStatus(s.rows())).toEqual({
      i: [
        { href: "a.ics", etag: "e", hash: "h" },
        { href: "b.ics", etag: "f", hash: "h" },
      ],
    });
    s.close();
    expect(existsSync(join(dir, "p"))).toBe(false);
  });

  it("migrates both legacy JSON forms to SQLite through a temporary file", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "p"));
    const path = join(dir, "p", "c.items");
    writeFileSync(
      path,
      JSON.stringify({
        four: ["a.ics", "1.5;3", "b.ics", null],
        two: [
          { href: "c.ics", etag: "e1", hash: "h1" },
          { href: "d.ics", etag: null },
        ],
      }),
    );
    const log = collectingLog();
    const s = openCollectionStatus(dir, "p", "c", { log });
    expect(log.warnings).toEqual(["Migrating legacy status to sqlite"]);
    const expected = {
      four: [
        { href: "a.ics", etag: "1.5;3", hash: "UNDEFINED" },
        { href: "b.ics", etag: null, hash: "UNDEFINED" },
      ],
      two: [
        { href: "c.ics", etag: "e1", hash: "h1" },
        { href: "d.ics", etag: null, hash: "UNDEFINED" },
      ],
    };
    expect(toLegacyStatus(s.rows())).toEqual(expected);
    s.close();
    expect(readFileSync(path).subarray(0, 15).toString()).toBe("SQLite format 3");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // No temporary file is left behind.
    expect(readdirSync(join(dir, "p"))).toEqual(["c.items"]);
    // vdirsyncer agrees with the migration it would have done itself.
    const out = python(
      `import sys, json
from vdirsyncer.sync.status import SqliteStatus
print(json.dumps(dict(SqliteStatus(sys.argv[1]).to_legacy_status())))`,
      path,
    );
    expect(JSON.parse(out)).toEqual(expected);
  });

  it("keeps a legacy file it cannot convert, with an error naming it", () => {
    const dir = tempDir();
    const broken = '{"x": [1, 2, 3]}';
    writeFileSync(join(dir, "p.items"), broken);
    expect(() => openCollectionStatus(dir, "p", null)).toThrow(/p\.items.*"x"/);
    expect(readFileSync(join(dir, "p.items"), "utf8")).toBe(broken);
    writeFileSync(join(dir, "q.items"), "{not json");
    expect(() => openCollectionStatus(dir, "q", null)).toThrow(/q\.items.*neither JSON nor SQLite/);
    expect(readFileSync(join(dir, "q.items"), "utf8")).toBe("{not json");
  });

  it("names the file when it is not a status database", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "p.items"), "x".repeat(4096));
    expect(() => openCollectionStatus(dir, "p", null)).toThrow(
      `The status file ${join(dir, "p.items")} is not an SQLite database.`,
    );
    const db = new DatabaseSync(join(dir, "q.items"));
    db.exec('CREATE TABLE meta ("version" INTEGER PRIMARY KEY); INSERT INTO meta VALUES (2)');
    db.close();
    expect(() => openCollectionStatus(dir, "q", null)).toThrow(/schema this version does not know/);
  });

  it("gives a status/LOCKED error naming the file while a Python vdirsyncer holds its transaction", async () => {
    const dir = tempDir();
    const s = openCollectionStatus(dir, "p", null, { busyTimeoutMs: 200 });
    const path = join(dir, "p.items");
    // What vdirsyncer does for a whole sync: BEGIN EXCLUSIVE TRANSACTION on its own connection.
    const child = spawn(
      PYTHON,
      [
        "-c",
        `import sys, sqlite3
c = sqlite3.connect(sys.argv[1]); c.isolation_level = None
c.execute("BEGIN EXCLUSIVE TRANSACTION"); print("locked", flush=True); sys.stdin.read(); c.execute("ROLLBACK")`,
        path,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    try {
      expect(await firstLine(child.stdout)).toBe("locked");
      let err: unknown;
      try {
        s.record(row("x", "x.ics", "x.ics"));
        s.flush();
      } catch (e) {
        err = e;
      }
      expect(isVdirsyncerError(err, STATUS_LOCKED)).toBe(true);
      expect((err as Error).message).toBe(`The status file ${path} is locked by another process.`);
      expect(() => openCollectionStatus(dir, "p", null, { busyTimeoutMs: 100 })).toThrow(
        /is locked by another process/,
      );
    } finally {
      child.stdin.end();
      await once(child, "exit");
    }
    s.record(row("x", "x.ics", "x.ics"));
    expect(s.rows()).toHaveLength(1);
    s.close();
  });
});

describe("legacy helpers", () => {
  it("round-trip rows through the 2-dict form", () => {
    const rows = [row("a", "a.ics", null), row("b", null, "b.ics")];
    expect(fromLegacyStatus(toLegacyStatus(rows))).toEqual(rows);
  });
  it("reject what is not a status", () => {
    expect(() => fromLegacyStatus([1, 2])).toThrow(/not a JSON object/);
    expect(() => fromLegacyStatus({ x: [{ href: 1 }, {}] }, "file.items")).toThrow(/file\.items.*"x"/);
  });
});
