/** `filter_hook` with real programs: shell scripts written to a temp dir. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FeedServer, serveFeed, startFeedServer } from "./feed-server.ts";
import { googleStyleFeed } from "./feeds.ts";
import { collect, openFeed, recordingLog } from "./helpers.ts";

let server: FeedServer;
let dir: string;
beforeAll(async () => {
  server = await startFeedServer();
  server.route(
    "/feed.ics",
    serveFeed(() => googleStyleFeed(new Date(Date.UTC(2024, 0, 1)))),
  );
  dir = mkdtempSync(join(tmpdir(), "storage-http-hook-"));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function rawsOf(options: Record<string, unknown>, log = recordingLog()) {
  const { col, close } = await openFeed({ url: server.url("/feed.ics"), ...options }, log);
  const refs = await collect(col.list());
  const items = await Promise.all(refs.map(async (r) => (await col.get(r.href)).item));
  await close();
  return { refs, items, log };
}

describe("filter_hook", () => {
  it("replaces each item by the command's output and drops the items it prints nothing for", async () => {
    // Drops the lunch, tags every other summary; the UIDs of the output are then replaced by its hashes.
    const hook = script(
      "tag.sh",
      'input=$(cat)\ncase "$input" in *SUMMARY:Lunch*) exit 0;; esac\nprintf "%s" "$input" | sed "s/^SUMMARY:/SUMMARY:[club] /"',
    );
    const { refs, items } = await rawsOf({ filter_hook: hook });
    expect(refs).toHaveLength(3);
    for (const [i, item] of items.entries()) {
      expect(item.raw).toMatch(/SUMMARY:\[club\] /);
      expect(item.uid).toBe(refs[i]!.href);
      expect(item.hash).toBe(refs[i]!.href);
    }
    expect(items.some((i) => i.raw.includes("Lunch"))).toBe(false);
  });

  it("keeps every item, with one warning, when the command cannot be started", async () => {
    const plain = await rawsOf({});
    const { refs, log } = await rawsOf({ filter_hook: join(dir, "does-not-exist") });
    expect(refs).toEqual(plain.refs);
    const warnings = log.lines.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain("Error executing external command");
    expect(warnings[0]?.message).toContain("does-not-exist");
  });

  it("uses the output of a command that exits non-zero, as vdirsyncer does, and says so once", async () => {
    const hook = script("grumpy.sh", "cat\nexit 3");
    const plain = await rawsOf({});
    const { refs, log } = await rawsOf({ filter_hook: hook });
    expect(refs).toEqual(plain.refs);
    const warnings = log.lines.filter((l) => l.level === "warn").map((l) => l.message);
    expect(warnings).toEqual([expect.stringContaining("non-zero status for 4 item(s)")]);
  });

  it("output that is not an item is an error naming the hook and the URL", async () => {
    const hook = script("junk.sh", 'cat >/dev/null\necho "BEGIN:VEVENT"');
    const { col, close } = await openFeed({ url: server.url("/feed.ics"), filter_hook: hook });
    await expect(collect(col.list())).rejects.toThrow(
      expect.objectContaining({
        code: "INVALID_RESPONSE",
        message: expect.stringMatching(
          new RegExp(`junk\\.sh.*${server.url("/feed.ics").replace(/[.]/g, "\\.")}`),
        ),
      }),
    );
    await close();
  });
});
