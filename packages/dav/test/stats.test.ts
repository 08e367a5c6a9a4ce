/**
 * The cost a collection reports to its StatsSink: requests, body bytes both ways and retries, checked against
 * what a counting proxy in front of the real servers saw.
 */
import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { Item, type StatCounter, type StatsSink } from "@vdirsyncer/core";
import { sampleEvent } from "@vdirsyncer/test-servers";
import { testServers } from "@vdirsyncer/test-servers/vitest";
import { describe, expect, it, onTestFinished } from "vitest";
import { createDavCollection, createDavSession, openDavCollection } from "../src/index.ts";
import { localServer, multistatus } from "./local.ts";

function sink(): StatsSink & { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  return {
    counts,
    add(counter: StatCounter, amount = 1) {
      counts[counter] = (counts[counter] ?? 0) + amount;
    },
  };
}

/** A proxy that forwards to `target` and counts requests and body bytes each way. */
async function countingProxy(target: string) {
  const seen = { requests: 0, bytesSent: 0, bytesReceived: 0, methods: [] as string[] };
  const proxy = await localServer((req, res, body) => {
    seen.requests++;
    seen.methods.push(req.method ?? "");
    seen.bytesSent += Buffer.byteLength(body);
    const upstream = httpRequest(
      new URL(req.url ?? "/", target),
      { method: req.method, headers: req.headers },
      (up) => {
        const chunks: Buffer[] = [];
        up.on("data", (c: Buffer) => chunks.push(c));
        up.on("end", () => {
          const answer = Buffer.concat(chunks);
          seen.bytesReceived += answer.length;
          const headers = { ...up.headers, "content-length": String(answer.length) };
          delete headers["transfer-encoding"];
          res.writeHead(up.statusCode ?? 502, headers).end(answer);
        });
      },
    );
    upstream.end(body);
  });
  onTestFinished(() => proxy.close());
  return { proxy, seen };
}

describe.each(["radicale", "xandikos"] as const)("%s: a collection's stats match the wire", (kind) => {
  it("a tag, a listing and a multiget report as many requests and bytes as the server got", async () => {
    const server = testServers()[kind];
    const auth = { username: server.username, password: server.password };
    const writer = createDavSession({ url: server.url, ...auth });
    onTestFinished(() => writer.close());
    const info = await createDavCollection(writer, "calendar", `stats-${randomUUID().slice(0, 8)}`);
    const w = openDavCollection(writer, info.href, { kind: "calendar", fileext: ".ics" });
    const hrefs: string[] = [];
    for (let i = 0; i < 5; i++) hrefs.push((await w.upload(new Item(sampleEvent(`s${i}`)))).href);

    const { proxy, seen } = await countingProxy(server.url);
    const session = createDavSession({ url: proxy.url, ...auth });
    onTestFinished(() => session.close());
    const stats = sink();
    const url = new URL(new URL(info.href).pathname, proxy.url).toString();
    const c = openDavCollection(
      session,
      url,
      { kind: "calendar", fileext: ".ics", multigetBatchSize: 2 },
      { stats },
    );
    await c.collectionTag();
    const listed: string[] = [];
    for await (const ref of c.list()) listed.push(ref.href);
    expect(listed.sort()).toEqual([...hrefs].sort());
    let read = 0;
    for await (const got of c.getMany(listed)) if ("item" in got) read++;
    expect(read).toBe(5);
    // Behind the proxy both servers answer HTTP/1.1: the standard profile, a PROPFIND listing and 3 multigets.
    expect(seen.methods.filter((m) => m === "REPORT")).toHaveLength(3);
    expect(stats.counts.requests).toBe(seen.requests);
    expect(stats.counts.bytesSent).toBe(seen.bytesSent);
    expect(stats.counts.bytesReceived).toBe(seen.bytesReceived);
    expect(stats.counts.bytesReceived).toBeGreaterThan(0);
    expect(stats.counts.retries).toBeUndefined();
  });
});

describe("retries", () => {
  it("a 503 answered once counts two requests and one retry on the collection's sink, none on the session's", async () => {
    let calls = 0;
    const s = await localServer((_q, res) => {
      calls++;
      if (calls === 1) res.writeHead(503, { "retry-after": "0" }).end("busy");
      else
        res
          .writeHead(207)
          .end(multistatus("/cal/", '<getctag xmlns="http://calendarserver.org/ns/">1</getctag>'));
    });
    onTestFinished(() => s.close());
    const sessionStats = sink();
    const session = createDavSession({ url: s.url, stats: sessionStats });
    onTestFinished(() => session.close());
    const stats = sink();
    const c = openDavCollection(session, `${s.url}cal/`, { kind: "calendar", fileext: ".ics" }, { stats });
    expect(await c.collectionTag()).toBe("1");
    expect(stats.counts).toMatchObject({ requests: 2, retries: 1 });
    expect(stats.counts.bytesReceived).toBeGreaterThan(4);
    expect(sessionStats.counts).toEqual({});
  });

  it("requests outside any collection (discovery) count on the session's sink", async () => {
    const server = testServers().xandikos;
    const stats = sink();
    const session = createDavSession({ url: server.url, stats });
    onTestFinished(() => session.close());
    const { discoverCollections } = await import("../src/index.ts");
    for await (const _ of discoverCollections(session, "calendar"));
    expect(stats.counts.requests).toBeGreaterThan(0);
    expect(stats.counts.bytesReceived).toBeGreaterThan(0);
  });
});
