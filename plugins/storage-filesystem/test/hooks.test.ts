// post_hook and pre_deletion_hook: called as [exe, absolute path], no shell; failures are warnings.
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { event, freshDir, makeContext, openDir } from "./helpers.ts";

/** A shell script that records its arguments and whether the file exists, then exits with `status`. */
async function recorder(dir: string, status = 0): Promise<{ exe: string; log: string }> {
  const exe = join(dir, "hook with space.sh");
  const log = join(dir, "hook.log");
  await writeFile(
    exe,
    `#!/bin/sh\nif [ -f "$1" ]; then state=present; else state=absent; fi\n` +
      `printf '%s|%s|%s\\n' "$#" "$1" "$state" >> '${log}'\necho "noise on stdout"\nexit ${status}\n`,
  );
  await chmod(exe, 0o755);
  return { exe, log };
}

const lines = async (log: string) => (await readFile(log, "utf8")).trimEnd().split("\n");

describe("hooks", () => {
  it("post_hook is not called when unset (test_post_hook_inactive)", async () => {
    const tools = await freshDir();
    const { log } = await recorder(tools);
    const col = await openDir(await freshDir());
    await col.upload(event("a"));
    await expect(readFile(log)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("post_hook gets [exe, path] after upload and update (test_post_hook_active)", async () => {
    const tools = await freshDir();
    const dir = await freshDir();
    const { exe, log } = await recorder(tools);
    const ctx = makeContext();
    const col = await openDir(dir, { post_hook: exe }, ctx);
    const { href, etag } = await col.upload(event("a"));
    await col.update(href, event("a", "changed"), etag!);
    const path = join(dir, href);
    expect(await lines(log)).toEqual([`1|${path}|present`, `1|${path}|present`]);
    expect(ctx.lines).toContainEqual({
      level: "info",
      message: `Calling post_hook=${exe} with argument=${path}`,
    });
  });

  it("pre_deletion_hook runs before the file is removed", async () => {
    const tools = await freshDir();
    const dir = await freshDir();
    const { exe, log } = await recorder(tools);
    const col = await openDir(dir, { pre_deletion_hook: exe });
    const { href, etag } = await col.upload(event("a"));
    await col.delete(href, etag!);
    expect(await lines(log)).toEqual([`1|${join(dir, href)}|present`]);
  });

  it("a hook's exit status is ignored", async () => {
    const tools = await freshDir();
    const { exe, log } = await recorder(tools, 3);
    const ctx = makeContext();
    const col = await openDir(await freshDir(), { post_hook: exe, pre_deletion_hook: exe }, ctx);
    const { href, etag } = await col.upload(event("a"));
    await col.delete(href, etag!);
    expect(await lines(log)).toHaveLength(2);
    expect(ctx.lines.filter((l) => l.level === "warn")).toEqual([]);
  });

  it("a hook that cannot start is a warning, and the write still succeeds", async () => {
    const dir = await freshDir();
    const ctx = makeContext();
    const missing = join(dir, "no-such-hook");
    const col = await openDir(dir, { post_hook: missing }, ctx);
    const { href } = await col.upload(event("a"));
    expect((await col.get(href)).item.raw).toContain("UID:a");
    const warnings = ctx.lines.filter((l) => l.level === "warn").map((l) => l.message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Error executing external hook: .*ENOENT/);
  });

  it("a hook is not run through a shell", async () => {
    const dir = await freshDir();
    const ctx = makeContext();
    const marker = join(dir, "pwned");
    const col = await openDir(dir, { post_hook: `touch ${marker}; true` }, ctx);
    await col.upload(event("a"));
    await expect(readFile(marker)).rejects.toMatchObject({ code: "ENOENT" });
    expect(ctx.lines.some((l) => l.level === "warn")).toBe(true);
  });
});
