import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startCyrus } from "./cyrus.ts";
import { startDavical } from "./davical.ts";
import { checkAccountName, handle, requireBinary, ServerHost, waitOrStop, withFreePort } from "./process.ts";

/** Which server a handle runs. */
export type ServerKind = "radicale" | "xandikos" | "cyrus" | "davical";

/** Every server kind, in the order tests list them. */
export const SERVER_KINDS: readonly ServerKind[] = ["radicale", "xandikos", "cyrus", "davical"];

/** One user of a server: credentials (none on Xandikos), principal path and home-set URLs. */
export interface Account {
  username?: string;
  password?: string;
  /** The principal path (e.g. `/user/`). */
  principal: string;
  /** Home-set URLs for calendars and address books. */
  homes: { calendar: string; addressbook: string };
}

/** A running test server. `stop()` MUST be called (it is also done on process exit, as a last resort). */
export interface TestServer {
  kind: ServerKind;
  /**
   * The URL a client is configured with, with a trailing `/`: the server root (`http://127.0.0.1:41234/`), or
   * DAViCal's DAV root (`http://127.0.0.1:41234/caldav.php/`).
   */
  url: string;
  /** Set when the server requires auth: Basic credentials known to the tests. */
  username?: string;
  password?: string;
  /** The principal path of the test user (e.g. `/user/`). */
  principal: string;
  /** Home-set URLs for calendars and address books. */
  homes: { calendar: string; addressbook: string };
  /** The server's state folder (a fresh temp dir, removed by `stop()`). */
  dataDir: string;
  /** The main server process (Cyrus: master; DAViCal: PHP's server). */
  pid: number;
  /** Every long-running process group the server consists of (DAViCal: PHP and PostgreSQL). */
  pids: number[];
  /** Where the server's own log goes, when it has one outside its output (Cyrus: its syslog). */
  logFile?: string;
  /** Stops the server (graceful signal, SIGKILL after a grace period) and removes its storage. Idempotent. */
  stop(): Promise<void>;
  /**
   * Adds a user with empty home sets (Cyrus and DAViCal: with their default calendar and address book), so that
   * tests sharing the server need not share collections. Xandikos has one user and no auth: it returns that one.
   * @throws {Error} the name is not a plain lower-case name, or the server refused it
   */
  addAccount(username: string, password: string): Promise<Account>;
}

/** Options common to all servers. */
export interface StartOptions {
  /** Bounded wait for the server to answer. @default 20_000 */
  startTimeoutMs?: number;
  /** Keep the storage folder after `stop()` (for debugging). @default false */
  keepData?: boolean;
}

/** Radicale options. */
export interface RadicaleOptions extends StartOptions {
  /** @default "user" */
  username?: string;
  /** @default "password" */
  password?: string;
}

const RADICALE = "/usr/bin/radicale";
const XANDIKOS = "/usr/bin/xandikos";

/**
 * Starts Debian's Radicale 3 on 127.0.0.1 with a free port, a fresh storage folder and htpasswd (plain) auth.
 * The user has no collections yet: create them with MKCOL/MKCALENDAR or {@link seedRadicaleCollection}.
 * @throws {Error} `/usr/bin/radicale` is missing (names the Debian package), or the server did not come up
 */
export async function startRadicale(options: RadicaleOptions = {}): Promise<TestServer> {
  requireBinary(RADICALE, "radicale");
  const username = options.username ?? "user";
  const password = options.password ?? "password";
  const host = await ServerHost.create("radicale", options.keepData);
  try {
    const dataDir = host.dir;
    await writeFile(join(dataDir, "users"), `${username}:${password}\n`, { mode: 0o600 });
    return await withFreePort(3, async (port) => {
      const config = [
        "[server]",
        `hosts = 127.0.0.1:${port}`,
        "max_connections = 64",
        "[auth]",
        "type = htpasswd",
        `htpasswd_filename = ${join(dataDir, "users")}`,
        "htpasswd_encryption = plain",
        "delay = 0",
        "[storage]",
        `filesystem_folder = ${join(dataDir, "collections")}`,
        "[web]",
        "type = none",
        "[logging]",
        "level = warning",
        "",
      ].join("\n");
      await writeFile(join(dataDir, "config"), config);
      const started = host.spawn(RADICALE, ["-C", join(dataDir, "config")]);
      const url = `http://127.0.0.1:${port}/`;
      await waitOrStop("radicale", url, started, options.startTimeoutMs);
      const accountOf = (name: string, pass: string): Account => ({
        username: name,
        password: pass,
        principal: `/${name}/`,
        homes: { calendar: `${url}${name}/`, addressbook: `${url}${name}/` },
      });
      return {
        kind: "radicale" as const,
        url,
        ...accountOf(username, password),
        ...handle(host, started),
        // Radicale reads the htpasswd file on every login.
        addAccount: async (name: string, pass: string) => {
          checkAccountName(name, pass);
          await appendFile(join(dataDir, "users"), `${name}:${pass}\n`);
          return accountOf(name, pass);
        },
      };
    });
  } catch (error) {
    await host.stop();
    throw error;
  }
}

/**
 * Starts Debian's Xandikos on 127.0.0.1 with a free port and a fresh storage folder, with `--defaults`, so that
 * `/user/calendars/calendar/` and `/user/contacts/addressbook/` exist. No auth.
 * @throws {Error} `/usr/bin/xandikos` is missing (names the Debian package), or the server did not come up
 */
export async function startXandikos(options: StartOptions = {}): Promise<TestServer> {
  requireBinary(XANDIKOS, "xandikos");
  const host = await ServerHost.create("xandikos", options.keepData);
  try {
    return await withFreePort(3, async (port) => {
      const started = host.spawn(XANDIKOS, [
        "-d",
        host.dir,
        "--defaults",
        "--current-user-principal",
        "/user/",
        "-l",
        "127.0.0.1",
        "-p",
        String(port),
      ]);
      const url = `http://127.0.0.1:${port}/`;
      await waitOrStop("xandikos", url, started, options.startTimeoutMs);
      const only: Account = {
        principal: "/user/",
        homes: { calendar: `${url}user/calendars/`, addressbook: `${url}user/contacts/` },
      };
      return {
        kind: "xandikos" as const,
        url,
        ...only,
        ...handle(host, started),
        addAccount: async (name: string, pass: string) => {
          checkAccountName(name, pass);
          return only;
        },
      };
    });
  } catch (error) {
    await host.stop();
    throw error;
  }
}

/** Starts the named server with default options. */
export function startServer(kind: ServerKind, options: StartOptions = {}): Promise<TestServer> {
  switch (kind) {
    case "radicale":
      return startRadicale(options);
    case "xandikos":
      return startXandikos(options);
    case "cyrus":
      return startCyrus(options);
    case "davical":
      return startDavical(options);
  }
}

/** The `Authorization` header for a server's test user, or `{}` when it has no auth. */
export function authHeaders(server: Pick<TestServer, "username" | "password">): Record<string, string> {
  if (server.username === undefined) return {};
  const token = Buffer.from(`${server.username}:${server.password ?? ""}`).toString("base64");
  return { authorization: `Basic ${token}` };
}
