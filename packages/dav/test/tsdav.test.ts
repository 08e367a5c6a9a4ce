import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Item, isVdirsyncerError } from "@vdirsyncer/core";
import { sampleContact, sampleEvent, startRadicale } from "@vdirsyncer/test-servers";
import { testServers } from "@vdirsyncer/test-servers/vitest";
import tsdav from "tsdav";
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { createDavCollection, createDavSession, openDavCollection } from "../src/index.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Spies that call straight through to tsdav: they only record how it was called. */
function spyOnTsdav() {
  return {
    createObject: vi.spyOn(tsdav, "createObject"),
    updateObject: vi.spyOn(tsdav, "updateObject"),
    deleteObject: vi.spyOn(tsdav, "deleteObject"),
    makeCalendar: vi.spyOn(tsdav, "makeCalendar"),
    makeCollection: vi.spyOn(tsdav, "makeCollection"),
  };
}

describe.each(["radicale", "xandikos"] as const)("%s through tsdav", (kind) => {
  const server = () => testServers()[kind];
  const session = () => {
    const s = server();
    return createDavSession({ url: s.url, username: s.username, password: s.password });
  };

  it("creates, uploads, updates and deletes with tsdav's functions and the session's fetch", async () => {
    const spies = spyOnTsdav();
    const s = session();
    const id = `tsdav-${randomUUID().slice(0, 8)}`;
    const info = await createDavCollection(s, "calendar", id, { displayName: "2024", color: "#FF0000FF" });
    expect(spies.makeCalendar).toHaveBeenCalledOnce();
    expect(spies.makeCalendar.mock.calls[0]?.[0]).toMatchObject({ url: info.href, fetch: s.fetch });

    const c = openDavCollection(s, info.href, { kind: "calendar", fileext: ".ics" });
    expect(await c.getMeta?.("displayname")).toBe("2024");
    const item = new Item(sampleEvent("via-tsdav"));
    const { href, etag } = await c.upload(item);
    expect(spies.createObject).toHaveBeenCalledOnce();
    expect(spies.createObject.mock.calls[0]?.[0]).toMatchObject({
      url: new URL(href, info.href).toString(),
      data: item.raw,
      headers: { "if-none-match": "*", "content-type": "text/calendar; charset=utf-8" },
      fetch: s.fetch,
    });
    const changed = new Item(sampleEvent("via-tsdav", "changed"));
    const updated = await c.update(href, changed, etag as string);
    expect(spies.updateObject.mock.calls[0]?.[0]).toMatchObject({ data: changed.raw, etag, fetch: s.fetch });
    expect((await c.get(href)).item.hash).toBe(changed.hash);
    await c.delete(href, updated.etag as string);
    expect(spies.deleteObject.mock.calls[0]?.[0]).toMatchObject({ etag: updated.etag, fetch: s.fetch });
    await expect(c.get(href)).rejects.toSatisfy((e) => isVdirsyncerError(e, "NOT_FOUND"));

    const book = await createDavCollection(s, "addressbook", `${id}-book`, { displayName: "Book" });
    expect(spies.makeCollection).toHaveBeenCalledOnce();
    const b = openDavCollection(s, book.href, { kind: "addressbook", fileext: ".vcf" });
    await b.upload(new Item(sampleContact("card-1")));
    expect(spies.createObject.mock.calls[1]?.[0]).toMatchObject({
      headers: { "content-type": "text/vcard; charset=utf-8" },
    });
  });

  it("creates without properties through tsdav, and keeps `&amp;` in a displayname by using our own body", async () => {
    const spies = spyOnTsdav();
    const s = session();
    const bare = await createDavCollection(s, "calendar", `bare-${randomUUID().slice(0, 8)}`);
    expect(spies.makeCalendar).toHaveBeenCalledOnce();
    const again = await createDavCollection(s, "calendar", bare.id);
    expect(again.href).toBe(bare.href);

    const name = "Caf\u00e9 &amp; Co";
    const info = await createDavCollection(s, "calendar", `amp-${randomUUID().slice(0, 8)}`, {
      displayName: name,
    });
    const c = openDavCollection(s, info.href, { kind: "calendar", fileext: ".ics" });
    expect(await c.getMeta?.("displayname")).toBe(name);
    expect(spies.makeCalendar).toHaveBeenCalledOnce();
  });
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** A local DAV stand-in that records every request byte for byte and keeps etags like a server. */
async function recordingServer(answer?: (req: Seen, res: ServerResponse) => boolean) {
  const seen: Seen[] = [];
  const etags = new Map<string, string>();
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(r);
      if (answer?.(r, res)) return;
      const current = etags.get(r.url);
      const ifMatch = r.headers["if-match"];
      if (r.method === "PUT") {
        if ((r.headers["if-none-match"] === "*" && current) || (ifMatch && ifMatch !== current)) {
          res.writeHead(412).end();
          return;
        }
        const etag = `"e${++next}"`;
        etags.set(r.url, etag);
        res.writeHead(201, r.url.includes("no-etag") ? {} : { etag }).end();
      } else if (r.method === "DELETE") {
        if (ifMatch && ifMatch !== current) res.writeHead(412).end();
        else {
          etags.delete(r.url);
          res.writeHead(204).end();
        }
      } else if (r.method === "PROPFIND") {
        res
          .writeHead(207, { "content-type": "application/xml" })
          .end(
            `<multistatus xmlns="DAV:"><response><href>${r.url}</href><propstat><prop>` +
              `<getetag>${etags.get(r.url) ?? ""}</getetag></prop><status>HTTP/1.1 200 OK</status></propstat>` +
              "</response></multistatus>",
          );
      } else res.writeHead(405).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url, seen };
}

describe("on the wire", () => {
  it("sends item.raw byte for byte with our conditional headers, auth and user agent", async () => {
    const { url, seen } = await recordingServer();
    const s = createDavSession({ url, username: "u", password: "p", useragent: "ua-test/1" });
    const c = openDavCollection(s, `${url}cal/`, { kind: "calendar", fileext: ".ics" });
    // CRLF, a lone LF, non-ASCII, trailing blanks and no final newline: nothing may be rewritten.
    const raw = `${sampleEvent("wire").replace(/\n/g, "\r\n").replace("SUMMARY:", "SUMMARY:Caf\u00e9 \ud83c\udf89  ")}\nX-END:1  `;
    const item = new Item(raw);
    const { href, etag } = await c.upload(item);
    expect(href).toBe("/cal/wire.ics");
    expect(etag).toBe('"e1"');
    const put = seen.at(-1) as Seen;
    expect(put.method).toBe("PUT");
    expect(put.body.equals(Buffer.from(raw, "utf8"))).toBe(true);
    expect(put.headers).toMatchObject({
      "if-none-match": "*",
      "content-type": "text/calendar; charset=utf-8",
      authorization: `Basic ${Buffer.from("u:p").toString("base64")}`,
      "user-agent": "ua-test/1",
    });
    expect(put.headers["if-match"]).toBeUndefined();

    await expect(c.upload(item)).rejects.toSatisfy((e) => isVdirsyncerError(e, "ALREADY_EXISTS"));
    await expect(c.update(href, item, '"stale"')).rejects.toSatisfy((e) =>
      isVdirsyncerError(e, "WRONG_ETAG"),
    );
    // The 412 is followed by one PROPFIND that tells "changed" from "gone"; the PUT carried the stale etag.
    expect(seen.filter((s) => s.method === "PUT").at(-1)?.headers["if-match"]).toBe('"stale"');
    expect(seen.at(-1)?.method).toBe("PROPFIND");
    const { etag: e2 } = await c.update(href, item, etag as string);
    expect(e2).toBe('"e2"');
    expect(seen.at(-1)?.headers["if-none-match"]).toBeUndefined();

    await expect(c.delete(href, '"stale"')).rejects.toSatisfy((e) => isVdirsyncerError(e, "WRONG_ETAG"));
    await c.delete(href, e2 as string);
    expect(seen.at(-1)).toMatchObject({ method: "DELETE", headers: { "if-match": '"e2"' } });
    await c.delete("/cal/other.ics", "");
    expect(seen.at(-1)?.method).toBe("DELETE");
    expect(seen.at(-1)?.headers["if-match"]).toBeUndefined();
  });

  it("reads the etag by PROPFIND when a PUT answer has none, and sends text/vcard for address books", async () => {
    const { url, seen } = await recordingServer();
    const s = createDavSession({ url });
    const b = openDavCollection(s, `${url}book/`, { kind: "addressbook", fileext: ".vcf" });
    const written = await b.upload(new Item(sampleContact("no-etag")));
    expect(written).toEqual({ href: "/book/no-etag.vcf", etag: '"e1"' });
    expect(seen.map((r) => r.method)).toEqual(["PUT", "PROPFIND"]);
    expect(seen[0]?.headers["content-type"]).toBe("text/vcard; charset=utf-8");
  });

  it("falls back from a refused MKCALENDAR to an extended MKCOL, and maps a 401", async () => {
    const discovery = (r: Seen, res: ServerResponse) => {
      if (r.method !== "PROPFIND") return false;
      res
        .writeHead(207, { "content-type": "application/xml" })
        .end(
          `<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>${r.url}</href>` +
            "<propstat><prop><current-user-principal><href>/p/</href></current-user-principal>" +
            "<C:calendar-home-set><href>/home/</href></C:calendar-home-set></prop>" +
            "<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>",
        );
      return true;
    };
    const { url, seen } = await recordingServer((r, res) => {
      if (discovery(r, res)) return true;
      if (r.method === "MKCALENDAR") res.writeHead(403).end("<error xmlns='DAV:'/>");
      else if (r.method === "MKCOL" && r.url.includes("denied")) res.writeHead(401).end();
      else if (r.method === "MKCOL") res.writeHead(201).end();
      else return false;
      return true;
    });
    const s = createDavSession({ url });
    const info = await createDavCollection(s, "calendar", "work", { displayName: "Work", color: "#00FF00" });
    expect(info).toMatchObject({ id: "work", href: `${url}home/work/`, displayName: "Work" });
    const [mkcalendar, mkcol] = seen.filter((r) => r.method.startsWith("MK"));
    expect(mkcalendar?.body.toString()).toMatch(/<d:displayname>Work<\/d:displayname>/);
    const body = mkcol?.body.toString() ?? "";
    expect(body).toMatch(/<d:mkcol /);
    expect(body).toMatch(/<d:resourcetype>\s*<d:collection\/>\s*<c:calendar\/>\s*<\/d:resourcetype>/);
    expect(body).toMatch(/<ca:calendar-color>#00FF00<\/ca:calendar-color>/);

    const error = await createDavCollection(s, "calendar", "denied").catch((e: unknown) => e);
    expect(isVdirsyncerError(error, "ACCESS_DENIED")).toBe(true);
    expect(String(error)).toContain(`MKCOL ${url}home/denied/ answered 401`);
  });
});

describe("tsdav's debug logging", () => {
  it("never sees credentials: DEBUG=tsdav* output of a whole write cycle holds none", async () => {
    const password = "Vw3-not-in-any-log-7Qp";
    const own = await startRadicale({ password });
    onTestFinished(() => own.stop());
    const script = `
      import { createRequire } from "node:module";
      import { Item } from "@vdirsyncer/core";
      import { createDavCollection, createDavSession, openDavCollection } from "${join(import.meta.dirname, "../src/index.ts")}";
      // tsdav's own \`debug\` instance: proves DEBUG reaches the logger tsdav writes through.
      createRequire(import.meta.resolve("tsdav"))("debug")("tsdav:probe")("logging is on");
      const s = createDavSession({ url: process.env.URL, username: "user", password: process.env.PASSWORD });
      const info = await createDavCollection(s, "calendar", "debug-cal", { displayName: "Debug" });
      await createDavCollection(s, "addressbook", "debug-book", { displayName: "Book" });
      const c = openDavCollection(s, info.href, { kind: "calendar", fileext: ".ics" });
      const w = await c.upload(new Item(process.env.EVENT));
      await c.upload(new Item(process.env.EVENT)).catch((e) => console.log(e.code));
      const u = await c.update(w.href, new Item(process.env.EVENT), w.etag);
      await c.delete(w.href, u.etag);
      const bad = createDavSession({ url: process.env.URL, username: "user", password: process.env.PASSWORD + "x" });
      const b = openDavCollection(bad, info.href, { kind: "calendar", fileext: ".ics" });
      await b.upload(new Item(process.env.EVENT)).catch((e) => console.log(e.code));
      await s.close();
      console.log("done");
    `;
    const r = spawnSync(
      process.execPath,
      ["--no-warnings", "--conditions=source", "--input-type=module", "-e", script],
      {
        cwd: join(import.meta.dirname, ".."),
        encoding: "utf8",
        timeout: 60_000,
        env: {
          ...process.env,
          DEBUG: "tsdav*",
          DEBUG_COLORS: "0",
          URL: own.url,
          PASSWORD: password,
          EVENT: sampleEvent("debugged"),
        },
      },
    );
    expect(r.stdout).toBe("ALREADY_EXISTS\nACCESS_DENIED\ndone\n");
    expect(r.stderr).toContain("tsdav:probe logging is on");
    for (const secret of [
      password,
      Buffer.from(`user:${password}`).toString("base64"),
      Buffer.from(`user:${password}x`).toString("base64"),
      "Basic ",
    ]) {
      expect(r.stderr + r.stdout).not.toContain(secret);
    }
  });
});
