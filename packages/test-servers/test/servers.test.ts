import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import {
  authHeaders,
  countItems,
  requireBinary,
  sampleContact,
  sampleEvent,
  seedRadicaleCollection,
  seedXandikosCollection,
  startRadicale,
  startXandikos,
  type TestServer,
} from "../src/index.ts";
import { testServers } from "../src/vitest.ts";

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

  it("a server is killed when the Node process that started it dies", async () => {
    // A child Node process starts Xandikos, prints its PID and exits without calling stop().
    const script = `
      import { startXandikos } from ${JSON.stringify(new URL("../src/servers.ts", import.meta.url).pathname)};
      const s = await startXandikos({ keepData: false });
      console.log(s.pid);
      process.exit(0);`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    const pid = Number(result.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    // The kill is asynchronous (init reaps the orphan): poll, bounded.
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  });
});

describe("seeding through the servers' storage", () => {
  it("seeds Radicale by folder and Xandikos by one git commit; PROPFIND sees every item", async () => {
    const { radicale, xandikos } = testServers();
    const events = Array.from({ length: 120 }, (_, i) => ({ name: `e${i}.ics`, text: sampleEvent(`e${i}`) }));
    const r = await seedRadicaleCollection(
      { ...radicale, stop: async () => {} },
      "user/seeded",
      "calendar",
      events,
    );
    expect(r.count).toBe(120);
    const contacts = Array.from({ length: 50 }, (_, i) => ({
      name: `c${i}.vcf`,
      text: sampleContact(`c${i}`),
    }));
    const x = await seedXandikosCollection(
      { ...xandikos, stop: async () => {} },
      "user/contacts/addressbook",
      contacts,
    );
    expect(x.count).toBe(50);
    const get = await fetch(`${x.url}c7.vcf`);
    expect(await get.text()).toContain("UID:c7");
    expect(await countItems({ ...radicale, stop: async () => {} }, r.url)).toBe(120);
  });
});
