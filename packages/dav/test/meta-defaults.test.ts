/**
 * The displayname Radicale and Xandikos make up for a collection created without one reads as unset, so that
 * metasync after a creation by `discover` does not see a conflict; a name someone set still reads as set.
 */
import { randomUUID } from "node:crypto";
import { type ServerInfo, testServers } from "@vdirsyncer/test-servers/vitest";
import { describe, expect, it } from "vitest";
import { isServerDefaultName } from "../src/collection.ts";
import { createDavCollection, createDavSession, openDavCollection } from "../src/index.ts";

function open(server: ServerInfo) {
  return createDavSession({ url: server.url, username: server.username, password: server.password });
}

describe("isServerDefaultName", () => {
  it("matches the collection's path and its last segment, unquoted, and nothing else", () => {
    expect(isServerDefaultName("http://h/user/work/", "user/work")).toBe(true);
    expect(isServerDefaultName("http://h/user/calendars/work/", "work")).toBe(true);
    expect(isServerDefaultName("http://h/user/my%20cal/", "my cal")).toBe(true);
    expect(isServerDefaultName("http://h/user/work/", "Work")).toBe(false);
    expect(isServerDefaultName("http://h/user/work/", "user")).toBe(false);
  });
});

describe.each(["radicale", "xandikos"] as const)("on %s", (name) => {
  it.each(["calendar", "addressbook"] as const)(
    "a %s created without a displayname has none; a set one is read back",
    async (kind) => {
      const server = testServers()[name];
      const session = open(server);
      try {
        const id = `m-${randomUUID().slice(0, 8)}`;
        const info = await createDavCollection(session, kind, id);
        const c = openDavCollection(session, info.href, {
          kind,
          fileext: kind === "calendar" ? ".ics" : ".vcf",
        });
        // The server itself reports a made-up name (checked so this test fails if that ever changes).
        const raw = await session.fetch(info.href, {
          method: "PROPFIND",
          headers: { depth: "0", "content-type": "application/xml" },
          body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><displayname/></prop></propfind>',
        });
        expect(await raw.text()).toMatch(new RegExp(`<[^>]*displayname>[^<]*${id}<`));
        expect(await c.getMeta?.("displayname")).toBeUndefined();
        await c.setMeta?.("displayname", "Chosen");
        expect(await c.getMeta?.("displayname")).toBe("Chosen");
      } finally {
        await session.close();
      }
    },
  );
});
