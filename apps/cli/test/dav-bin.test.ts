/**
 * The real, built command (`bin/vdirsyncer.js` in a child process) syncs a vdir with a real Radicale, the
 * password coming from `password.fetch`.
 */
import { afterEach, beforeAll, expect, test } from "vitest";
import { account, event, RawDav } from "./dav-helpers.ts";
import { describeRun, ensureBuilt, Sandbox } from "./interop/built-bin.ts";

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const s of sandboxes.splice(0)) s.dispose();
});

beforeAll(() => {
  ensureBuilt();
}, 300_000);

test("built bin: discover, sync both ways and a no-op second sync against Radicale, password from a command", async () => {
  const acc = await account("radicale");
  const dav = new RawDav(acc);
  await dav.create("caldav", "work");
  await dav.put("caldav", "work", "s1.ics", event("s1", "From the server"));
  const box = new Sandbox("vdirsyncer-dav-bin-");
  sandboxes.push(box);
  box.write("calendars/home/l1.ics", event("l1", "From the vdir"));
  box.write(
    ".config/vdirsyncer/config",
    `[general]
status_path = "~/.local/share/vdirsyncer/status/"

[pair cal]
a = "local"
b = "remote"
collections = ["from a", "from b"]
conflict_resolution = "b wins"

[storage local]
type = "filesystem"
path = "~/calendars/"
fileext = ".ics"

[storage remote]
type = "caldav"
url = "${acc.url}"
username = "${acc.username}"
password.fetch = ["command", "printf", "%s", "${acc.password}"]
`,
  );
  const d = box.ours(["discover"], { input: "y\ny\n" });
  expect(d.code, describeRun(d)).toBe(0);
  expect(d.stderr).toContain('Saved for cal: collections = ["home", "work"]');

  const s = box.ours(["sync"]);
  expect(s.code, describeRun(s)).toBe(0);
  expect(s.stderr).toContain("Copying (uploading) item l1 to remote/home");
  expect(s.stderr).toContain("Copying (uploading) item s1 to local/work");
  expect(Object.values(await dav.items("caldav", "home")).join("")).toContain("From the vdir");
  expect(box.files("calendars/work")).toHaveLength(1);

  const again = box.ours(["sync", "--json"]);
  expect(again.code, describeRun(again)).toBe(0);
  const lines = again.stdout.trim().split("\n");
  const summary = JSON.parse(lines.at(-1) as string);
  expect(summary).toEqual({
    event: "summary",
    ok: true,
    collections: 2,
    uploads: 0,
    updates: 0,
    deletes: 0,
    conflicts: 0,
    errors: 0,
    stats: expect.objectContaining({ requests: expect.any(Number), itemsWritten: 0, itemsDeleted: 0 }),
  });
  const listed = lines.map((l) => JSON.parse(l)).filter((e) => e.event === "listed" && e.side === "b");
  // Radicale lists by one query when its ctag changed (our own writes did); nothing needs fetching.
  expect(listed.every((e) => e.toFetch === 0)).toBe(true);
  expect(again.stderr).not.toContain(acc.password as string);
}, 120_000);
