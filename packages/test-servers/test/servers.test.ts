import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import {
  authHeaders,
  countItems,
  requireBinary,
  SERVER_KINDS,
  sampleContact,
  sampleEvent,
  seedRadicaleCollection,
  seedXandikosCollection,
  startRadicale,
  startServer,
  startXandikos,
  type TestServer,
} from "../src/index.ts";
import { serverCases, testServers } from "../src/vitest.ts";

/** DAViCal's start (initdb, its database script) takes 3-30 s depending on the machine's load. */
const START_BUDGET_MS = 120_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("requireBinary", () => {
  it("names the Debian package when a binary is missing", () => {
    expect(() => requireBinary("/usr/bin/no-such-dav-server", "no-such-package")).toThrow(
      /apt-get install no-such-package/,
    );
  });
});

describe("own servers", () => {
  const started: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  it("Radicale answers with auth, rejects without, and stop() kills it and removes its storage", async () => {
    const server = await startRadicale({ username: "alice", password: "s3cret" });
    started.push(server);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const anonymous = await fetch(`${server.url}alice/`, { method: "PROPFIND", headers: { depth: "0" } });
    expect(anonymous.status).toBe(401);
    const authed = await fetch(`${server.url}alice/`, {
      method: "PROPFIND",
      headers: { depth: "0", ...authHeaders(server) },
    });
    expect(authed.status).toBe(207);
    expect(alive(server.pid)).toBe(true);
    await server.stop();
    expect(alive(server.pid)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(false);
    await server.stop(); // idempotent
  });

  it("Xandikos starts with the default calendar and address book", async () => {
    const server = await startXandikos();
    started.push(server);
    for (const path of ["user/calendars/calendar/", "user/contacts/addressbook/"]) {
      const res = await fetch(`${server.url}${path}`, { method: "PROPFIND", headers: { depth: "0" } });
      await res.arrayBuffer();
      expect(res.status).toBe(207);
    }
    await server.stop();
    expect(alive(server.pid)).toBe(false);
  });
});

/** The calendar a fresh server offers for a PUT (Radicale has none: one is made with MKCALENDAR). */
async function someCalendar(server: TestServer): Promise<string> {
  switch (server.kind) {
    case "cyrus":
      return `${server.homes.calendar}Default/`;
    case "xandikos":
    case "davical":
      return `${server.homes.calendar}calendar/`;
    case "radicale": {
      const url = `${server.homes.calendar}cal/`;
      const res = await fetch(url, { method: "MKCALENDAR", headers: authHeaders(server) });
      await res.arrayBuffer();
      expect(res.status).toBe(201);
      return url;
    }
  }
}

/**
 * The processes still running whose command line mentions `text` (a server's state folder) or whose working
 * directory is inside it (PostgreSQL's helpers rename themselves but stay in their data folder).
 */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const state = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Zombies (state Z) are dead, only not yet reaped by their parent.
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // another user's process without access, or gone
      }
      const mentions = cmdline.includes(text) || cwd === text || cwd.startsWith(`${text}/`);
      if (mentions && !/\) Z /.test(state)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { method: "OPTIONS", signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Polls (bounded) until `done()` holds. */
async function eventually(done: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Waits (bounded) until no process of the servers runs (their process groups included; reaping killed workers
 * takes a moment, and the watchdog ends within a second of stop()), their folders are gone and their ports are
 * closed, then asserts it.
 */
async function expectAllGone(servers: { url: string; pids: number[]; dataDir: string }[]) {
  const gone = async () => {
    for (const s of servers) {
      if (s.pids.some((p) => alive(p) || groupAlive(p))) return false;
      if (processesMentioning(s.dataDir).length > 0 || existsSync(s.dataDir)) return false;
      if (await answers(s.url)) return false;
    }
    return true;
  };
  await eventually(gone);
  for (const s of servers) {
    for (const pid of s.pids) expect(groupAlive(pid), `process group ${pid} of ${s.url}`).toBe(false);
    expect(processesMentioning(s.dataDir)).toEqual([]);
    expect(existsSync(s.dataDir), `${s.dataDir} is removed`).toBe(false);
    expect(await answers(s.url)).toBe(false);
  }
}

describe.each(SERVER_KINDS)("%s on its own", (kind) => {
  it(
    "starts, answers an authenticated PROPFIND on the calendar home and a PUT+GET, and stop() leaves nothing",
    async () => {
      const server = await startServer(kind);
      try {
        expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
        const home = await fetch(server.homes.calendar, {
          method: "PROPFIND",
          headers: { depth: "1", ...authHeaders(server) },
        });
        expect(home.status).toBe(207);
        expect(await home.text()).toMatch(/multistatus/);
        if (server.username !== undefined) {
          const anonymous = await fetch(server.homes.calendar, {
            method: "PROPFIND",
            headers: { depth: "0" },
          });
          await anonymous.arrayBuffer();
          expect(anonymous.status).toBe(401);
        }
        const item = `${await someCalendar(server)}roundtrip-${kind}.ics`;
        const body = sampleEvent(`roundtrip-${kind}`, "Round trip");
        const put = await fetch(item, {
          method: "PUT",
          headers: {
            "content-type": "text/calendar; charset=utf-8",
            "if-none-match": "*",
            ...authHeaders(server),
          },
          body,
        });
        await put.arrayBuffer();
        expect(put.status).toBe(201);
        const get = await fetch(item, { headers: authHeaders(server) });
        expect(get.status).toBe(200);
        const text = await get.text();
        expect(text).toContain(`UID:roundtrip-${kind}`);
        expect(text).toContain("SUMMARY:Round trip");
        for (const pid of server.pids) expect(alive(pid)).toBe(true);
        // A second account has a home of its own.
        const other = await server.addAccount("second-user", "second-secret");
        const otherHome = await fetch(other.homes.calendar, {
          method: "PROPFIND",
          headers: { depth: "0", ...authHeaders(other) },
        });
        await otherHome.arrayBuffer();
        expect(otherHome.status).toBe(207);
        if (server.kind !== "xandikos") expect(other.homes.calendar).not.toBe(server.homes.calendar);
        await expect(server.addAccount("Bad Name", "x")).rejects.toThrow(/a name is 1-40/);
      } finally {
        await server.stop();
      }
      for (const pid of server.pids) expect(alive(pid)).toBe(false);
      await expectAllGone([server]);
      await server.stop(); // idempotent
    },
    START_BUDGET_MS,
  );
});

describe("servers never outlive the Node process that started them", () => {
  /** Starts `kinds` in a child Node process and returns the child and the servers it reported. */
  async function startInChild(kinds: readonly string[], then: "exit" | "wait") {
    const script = `
      import { startServer } from ${JSON.stringify(new URL("../src/servers.ts", import.meta.url).pathname)};
      const servers = await Promise.all(${JSON.stringify(kinds)}.map((k) => startServer(k)));
      console.log(JSON.stringify(servers.map((s) => ({ url: s.url, pids: s.pids, dataDir: s.dataDir }))));
      ${then === "exit" ? "process.exit(0);" : "setInterval(() => {}, 1000);"}`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes("\n")) resolve(out.split("\n")[0] as string);
      });
      child.once("exit", (code) => reject(new Error(`child exited (${code}) before starting: ${err}`)));
    });
    return { child, servers: JSON.parse(line) as { url: string; pids: number[]; dataDir: string }[] };
  }

  it(
    "exits without stop(): its exit hook kills every server and removes their folders",
    async () => {
      const { servers } = await startInChild(["xandikos", "davical"], "exit");
      expect(servers).toHaveLength(2);
      await expectAllGone(servers);
    },
    START_BUDGET_MS,
  );

  it(
    "is SIGKILLed: the watchdog kills every server (with all its workers) and removes their folders",
    async () => {
      const { child, servers } = await startInChild(["xandikos", "cyrus", "davical"], "wait");
      for (const s of servers) expect(await answers(s.url)).toBe(true);
      child.kill("SIGKILL");
      await expectAllGone(servers);
    },
    START_BUDGET_MS,
  );
});

describe("seeding through the servers' storage", () => {
  it("seeds Radicale by folder and Xandikos by one git commit; PROPFIND sees every item", async () => {
    const { radicale, xandikos } = testServers();
    const events = Array.from({ length: 120 }, (_, i) => ({ name: `e${i}.ics`, text: sampleEvent(`e${i}`) }));
    const r = await seedRadicaleCollection(radicale, `${radicale.username}/seeded`, "calendar", events);
    expect(r.count).toBe(120);
    const contacts = Array.from({ length: 50 }, (_, i) => ({
      name: `c${i}.vcf`,
      text: sampleContact(`c${i}`),
    }));
    const x = await seedXandikosCollection(xandikos, "user/contacts/addressbook", contacts);
    expect(x.count).toBe(50);
    const get = await fetch(`${x.url}c7.vcf`);
    expect(await get.text()).toContain("UID:c7");
    expect(await countItems(radicale, r.url)).toBe(120);
  });
});

describe("the run's shared set", () => {
  it("hands all four servers to the tests, as plugin options too, and each answers", async () => {
    const servers = testServers();
    expect(Object.keys(servers).sort()).toEqual(["cyrus", "davical", "radicale", "xandikos"]);
    // This project's own account on every server but Xandikos (one anonymous user).
    for (const kind of ["radicale", "cyrus", "davical"] as const) {
      expect(servers[kind].username, kind).toBe("test-servers");
      expect(servers[kind].homes.calendar, kind).toContain("/test-servers/");
    }
    expect(servers.xandikos.username).toBeUndefined();
    const cases = serverCases();
    expect(cases.map((c) => c.name)).toEqual([...SERVER_KINDS]);
    for (const c of cases) {
      expect(c.options.url).toBe(servers[c.name].url);
      expect(process.env[`VDIRSYNCER_TEST_${c.name.toUpperCase()}_URL`]).toBe(c.options.url);
      const res = await fetch(servers[c.name].homes.addressbook, {
        method: "PROPFIND",
        headers: { depth: "0", ...authHeaders(servers[c.name]) },
      });
      await res.arrayBuffer();
      expect(res.status, c.name).toBe(207);
    }
  });
});
