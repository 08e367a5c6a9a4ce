/**
 * The real daemon process (the built command) between a vdir and Radicale: it starts, a local edit reaches the
 * server, a server edit is pulled, SIGHUP reloads, and a SIGTERM in the middle of a burst of uploads loses
 * nothing: exit code 0, no lock left, and the next `vdirsyncer sync` uploads only what the daemon had not,
 * each item once.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { account, RawDav } from "./dav-helpers.ts";
import { event } from "./helpers.ts";
import { BIN, describeRun, ensureBuilt, Sandbox } from "./interop/built-bin.ts";

let box: Sandbox;

beforeAll(() => {
  ensureBuilt();
  box = new Sandbox("vdirsyncer-daemon-");
}, 300_000);

afterAll(() => box?.dispose());

const BURST = 80;

function uidsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ics"))
    .map((f) => /^UID:(.*?)\r?$/m.exec(readFileSync(join(dir, f), "utf8"))?.[1] as string)
    .sort();
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, log: () => string) {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; daemon log:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("daemon against Radicale: push, pull, reload, SIGTERM mid-write loses nothing, exit 0", async () => {
  const acc = await account("radicale");
  const dav = new RawDav(acc);
  await dav.create("caldav", "work");
  const home = box.home;
  const local = join(home, "cal");
  const config = box.write(
    "config",
    `[general]
status_path = "${home}/status/"

[pair cal]
a = "local"
b = "server"
collections = ["from b"]
implicit = "create"

[storage local]
type = "filesystem"
path = "${local}/"
fileext = ".ics"

[storage server]
type = "caldav"
url = "${acc.url}"
username = "${acc.username}"
password = "${acc.password}"
`,
  );
  const run = (args: string[]) =>
    spawnSync(process.execPath, [BIN, "-c", config, ...args], { env: box.env, cwd: home, encoding: "utf8" });
  const disc = run(["discover"]);
  expect(disc.status, disc.stderr).toBe(0);

  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [BIN, "-c", config, "daemon", "--interval", "1", "--debounce", "0.2", "--retry", "1"],
    { env: box.env, cwd: home },
  );
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const log = () => stderr;
  try {
    await eventually(() => stderr.includes("Daemon started: 1 collection"), "the start", log);
    const onServer = async () =>
      Object.values(await dav.items("caldav", "work")).map((t) => /UID:(.*?)\r/.exec(t)?.[1]);

    // A local edit reaches the server.
    box.write("cal/work/local1.ics", event("local1"));
    await eventually(async () => (await onServer()).includes("local1"), "local1 on the server", log);

    // A server edit is pulled by the next poll.
    await dav.put("caldav", "work", "server1.ics", event("server1"));
    await eventually(() => uidsIn(join(local, "work")).includes("server1"), "server1 locally", log);

    // SIGHUP reloads the config; the daemon goes on.
    child.kill("SIGHUP");
    await eventually(() => stderr.includes("Reloading the config."), "the reload", log);
    box.write("cal/work/local2.ics", event("local2"));
    await eventually(async () => (await onServer()).includes("local2"), "local2 on the server", log);

    // A burst of local items; SIGTERM once some uploads are through.
    for (let i = 0; i < BURST; i++) box.write(`cal/work/burst${i}.ics`, event(`burst${i}`));
    const copied = () =>
      stderr.split("\n").filter((l) => /^Copying \(uploading\) item burst\d+ to server/.test(l)).length;
    await eventually(() => copied() >= 5, "the first uploads of the burst", log);
    child.kill("SIGTERM");
    const code = await exited;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("Received SIGTERM: stopping.");
    expect(stderr).toContain("Daemon stopped.");
    expect(existsSync(join(home, "status", "cal.lock"))).toBe(false);
    expect(existsSync(join(home, "status", ".daemon.lock"))).toBe(false);
    const byDaemon = copied();
    // The stop came in the middle of the burst: some uploads were left for later.
    expect(byDaemon).toBeLessThan(BURST);
    expect(stderr).toMatch(/cal\/work: stopped; \d+ changes are left for the next sync\./);

    // The next sync uploads only what the daemon left, each once; the server ends with every item once.
    const next = run(["sync"]);
    expect(
      next.status,
      describeRun({ code: next.status, stdout: next.stdout, stderr: next.stderr, command: "sync" }),
    ).toBe(0);
    const uploadedNow = next.stderr
      .split("\n")
      .filter((l) => /^Copying \(uploading\) item burst\d+/.test(l)).length;
    expect(uploadedNow).toBe(BURST - byDaemon);
    const server = (await onServer()).sort();
    expect(server.length).toBe(BURST + 3);
    expect(new Set(server).size).toBe(BURST + 3);
    expect(uidsIn(join(local, "work")).length).toBe(BURST + 3);
    // The daemon's state file says it stopped; `status` reads it.
    const st = run(["status", "--json"]);
    const js = JSON.parse(st.stdout);
    expect(js.daemon.running).toBe(false);
    expect(js.collections[0]).toMatchObject({ name: "cal/work", items: BURST + 3 });
  } finally {
    clearTimeout(killer);
    child.kill("SIGKILL");
  }
}, 180_000);
