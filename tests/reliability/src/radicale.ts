/**
 * A Radicale of our own (through @vdirsyncer/test-servers), with users created on the fly and direct access
 * to its storage folder: the checks read what the server stores without going through the code under test.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startRadicale, type TestServer } from "@vdirsyncer/test-servers";
import { readFolder, type Side } from "./items.ts";

let users = 0;

/** One Radicale user: the credentials and where the server keeps its collections. */
export interface RadicaleUser {
  server: TestServer;
  username: string;
  password: string;
  /** The URL a storage section is configured with. */
  url: string;
  /** The collection URL of `name`. */
  collectionUrl(name: string): string;
  /** The storage folder of collection `name`. */
  folder(name: string): string;
  /** The items the server stores in `name`. */
  items(name: string): Side;
  /** The collection's stored properties (`.Radicale.props`), or {} when it has none. */
  props(name: string): Record<string, string>;
  /** Creates a calendar with MKCALENDAR. */
  mkcalendar(name: string): Promise<void>;
  /**
   * Writes items straight into calendar `name`'s storage folder (created with its properties file when
   * missing), as another program editing the server would: no request, so no proxy or client is involved.
   */
  seed(name: string, items: Iterable<{ name: string; text: string | Uint8Array }>): void;
}

export function startServer(): Promise<TestServer> {
  return startRadicale();
}

/** A new user on `server` (Radicale reads its htpasswd file on every login). */
export function newUser(server: TestServer, prefix = "r", secret?: string): RadicaleUser {
  const username = `${prefix}${process.pid}x${++users}`;
  const password = secret ?? `pw-${username}-${Math.random().toString(36).slice(2, 10)}`;
  appendFileSync(join(server.dataDir, "users"), `${username}:${password}\n`);
  const root = join(server.dataDir, "collections", "collection-root", username);
  const auth = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  const user: RadicaleUser = {
    server,
    username,
    password,
    url: server.url,
    collectionUrl: (name) => `${server.url}${username}/${encodeURIComponent(name)}/`,
    folder: (name) => join(root, name),
    items: (name) => readFolder(join(root, name)),
    props(name) {
      try {
        return JSON.parse(readFileSync(join(root, name, ".Radicale.props"), "utf8")) as Record<
          string,
          string
        >;
      } catch {
        return {};
      }
    },
    seed(name, items) {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      const props = join(dir, ".Radicale.props");
      if (!existsSync(props)) writeFileSync(props, JSON.stringify({ tag: "VCALENDAR" }));
      for (const it of items) writeFileSync(join(dir, it.name), it.text);
    },
    async mkcalendar(name) {
      const res = await fetch(user.collectionUrl(name), {
        method: "MKCALENDAR",
        headers: { authorization: auth },
        signal: AbortSignal.timeout(10_000),
      });
      await res.text();
      if (res.status !== 201) throw new Error(`MKCALENDAR ${name} answered ${res.status}`);
    },
  };
  return user;
}
