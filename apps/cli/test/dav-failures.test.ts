/**
 * Failure scope against a real Radicale: a server error, a timeout or a malformed answer on ONE collection is
 * reported with the pair/collection, the URL (without credentials) and a hint, exit code 1, while the other
 * collections and pairs still sync. The faults come from a small local proxy that forwards to Radicale and
 * breaks the requests for one collection path. Also: a wrong password and a server that is down.
 */
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { testServers } from "@vdirsyncer/test-servers/vitest";
import { afterEach, describe, expect, test } from "vitest";
import { type Account, account, event, RawDav } from "./dav-helpers.ts";
import { general, type World, world } from "./helpers.ts";

type Fault = "none" | "500" | "hang" | "garbage";

/** A proxy in front of the server that breaks every request whose path starts with `broken`. */
interface FaultyProxy {
  url: string;
  fault: Fault;
  broken: string;
  /** Requests that the proxy broke. */
  broke: number;
  close(): Promise<void>;
}

const proxies: FaultyProxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
});

async function faultyProxy(target: string): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const proxy: FaultyProxy = {
    url: "",
    fault: "none",
    broken: "/nothing/",
    broke: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
  const server: Server = createServer((req, res) => {
    if (proxy.fault !== "none" && (req.url ?? "").startsWith(proxy.broken)) {
      proxy.broke++;
      req.resume();
      if (proxy.fault === "500") {
        res
          .writeHead(500, { "content-type": "text/plain" })
          .end("Internal Server Error: the disk is on fire");
      } else if (proxy.fault === "garbage") {
        res.writeHead(207, { "content-type": "application/xml" }).end("Hello world <<< this is not XML");
      }
      // "hang": no answer at all; the socket is destroyed when the proxy closes.
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  proxies.push(proxy);
  return proxy;
}

/**
 * Pair `p`: vdir `local` ↔ the calendars behind the proxy (`from a`, `from b`); pair `q`: vdir `local2` ↔ the
 * calendar `other` directly on the server. `timeout` is one second.
 */
function configure(w: World, acc: Account, proxyUrl: string): void {
  w.writeConfig(`${general(w.root)}
[pair p]
a = "local"
b = "remote"
collections = ["from a", "from b"]

[pair q]
a = "local2"
b = "remote2"
collections = ["other"]

[storage local]
type = "filesystem"
path = "{root}/local/"
fileext = ".ics"

[storage remote]
type = "caldav"
url = "${proxyUrl}"
username = "${acc.username}"
password = "${acc.password}"
timeout = 1

[storage local2]
type = "filesystem"
path = "{root}/local2/"
fileext = ".ics"

[storage remote2]
type = "caldav"
url = "${acc.url}"
username = "${acc.username}"
password = "${acc.password}"
`);
}

/** A world with both pairs discovered and synced once, and one new server item per calendar to sync next. */
async function setUp(): Promise<{ w: World; acc: Account; dav: RawDav; proxy: FaultyProxy }> {
  const w = world();
  const acc = await account("radicale");
  const dav = new RawDav(acc);
  for (const c of ["good", "broken", "other"]) {
    await dav.create("caldav", c);
    await dav.put("caldav", c, `${c}-1.ics`, event(`${c}-1`));
  }
  const proxy = await faultyProxy(acc.url);
  configure(w, acc, proxy.url);
  const d = await w.run(["discover"], { stdin: "y\ny\ny\ny\n" });
  expect(d.code, d.stderr).toBe(0);
  const s = await w.run(["sync"]);
  expect(s.code, s.stderr).toBe(0);
  for (const c of ["good", "broken", "other"]) await dav.put("caldav", c, `${c}-2.ics`, event(`${c}-2`));
  proxy.broken = `/${acc.username}/broken/`;
  return { w, acc, dav, proxy };
}

/** The UIDs of the vdir folder `dir`. */
function uids(w: World, dir: string): string[] {
  return w
    .files(dir)
    .map((f) => /UID:([^\r\n]+)/.exec(w.read(`${dir}/${f}`))?.[1] as string)
    .sort();
}

describe("one broken collection", () => {
  test.each([
    ["500", /answered 500/],
    ["hang", /did not answer within 1000 ms/],
    ["garbage", /doesn't understand.*answered with invalid XML/],
  ] as const)(
    "%s: named with pair/collection, URL and hint; the rest still syncs",
    async (fault, what) => {
      const { w, acc, proxy } = await setUp();
      proxy.fault = fault;
      const r = await w.run(["sync"]);
      expect(proxy.broke).toBeGreaterThan(0);
      expect(r.code).toBe(1);
      const url = `${proxy.url}${acc.username}/broken/`;
      const lines = r.stderr.split("\n");
      const error = lines.findIndex((l) => l.startsWith("error: p/broken: "));
      expect(error, r.stderr).toBeGreaterThanOrEqual(0);
      const message = lines.slice(error, lines.findIndex((l, i) => i > error && l.startsWith("hint: ")) + 1);
      expect(message.join("\n")).toContain(url);
      expect(message.join("\n")).toMatch(what);
      expect(message.at(-1)).toMatch(/^hint: \S/);
      expect(r.stderr).not.toContain(acc.password as string);
      // Only the broken collection failed.
      expect(r.stderr.match(/^error: [pq]\//gm)).toHaveLength(1);
      expect(uids(w, "local/good")).toEqual(["good-1", "good-2"]);
      expect(uids(w, "local2/other")).toEqual(["other-1", "other-2"]);
      expect(uids(w, "local/broken")).toEqual(["broken-1"]);

      // Once the server is well again, the next sync catches up.
      proxy.fault = "none";
      const again = await w.run(["sync"]);
      expect(again.code, again.stderr).toBe(0);
      expect(uids(w, "local/broken")).toEqual(["broken-1", "broken-2"]);
    },
    90_000,
  );
});

describe("account-wide failures", () => {
  test("a wrong password is a clear AccessDenied with a hint, in discover and in sync", async () => {
    const { w, acc, proxy } = await setUp();
    // The password changes on the server: the next sync is refused on every collection of the account.
    const users = join(testServers().radicale.dataDir, "users");
    const line = `${acc.username}:${acc.password}\n`;
    writeFileSync(
      users,
      readFileSync(users, "utf8").replace(line, `${acc.username}:changed-on-the-server\n`),
    );
    const s = await w.run(["sync"]);
    expect(s.code).toBe(1);
    for (const c of ["p/good", "p/broken", "p/other", "q/other"]) {
      expect(s.stderr).toMatch(
        new RegExp(
          `^error: ${c}: PROPFIND http://127\\.0\\.0\\.1:\\d+/${acc.username}/\\S+ answered 401`,
          "m",
        ),
      );
    }
    expect(s.stderr).toContain(
      "hint: Check username and password, and `auth` (basic or digest) for this server.\n",
    );
    expect(s.stderr).not.toContain(acc.password as string);

    // discover with that wrong password says the same, naming the URL.
    const d = await w.run(["discover", "p"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(new RegExp(`^error: .*${proxy.url}\\S* answered 401`, "m"));
    expect(d.stderr).toContain("hint: Check username and password");
    expect(d.stderr).not.toContain(acc.password as string);
  });

  test("a server that is down is named by its URL", async () => {
    const { w, acc, proxy } = await setUp();
    const down = proxy.url;
    await proxy.close();
    proxies.splice(proxies.indexOf(proxy), 1);
    const s = await w.run(["sync"]);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(new RegExp(`^error: p/good: .*${down}${acc.username}/good/.*ECONNREFUSED`, "m"));
    expect(s.stderr).toMatch(/^hint: .*(reach|running|network)/im);
    expect(uids(w, "local2/other")).toEqual(["other-1", "other-2"]);

    const d = await w.run(["discover", "p"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain(down);
    expect(d.stderr).toContain("ECONNREFUSED");
  }, 90_000);
});
