import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  freePort,
  requireBinary,
  type Started,
  spawnServer,
  stopChild,
  waitUntilAnswering,
} from "./process.ts";

/** Which server a handle runs. */
export type ServerKind = "radicale" | "xandikos";

/** A running test server. `stop()` MUST be called (it is also done on process exit, as a last resort). */
export interface TestServer {
  kind: ServerKind;
  /** Server root with a trailing `/`, e.g. `http://127.0.0.1:41234/`. */
  url: string;
  /** Set when the server requires auth (Radicale): Basic credentials known to the tests. */
  username?: string;
  password?: string;
  /** The principal path of the test user (`/user/`). */
  principal: string;
  /** Home-set URLs for calendars and address books. */
  homes: { calendar: string; addressbook: string };
  /** The server's storage folder (a fresh temp dir, removed by `stop()`). */
  dataDir: string;
  pid: number;
  /** Stops the server (SIGTERM, SIGKILL after a grace period) and removes its storage. Idempotent. */
  stop(): Promise<void>;
}

/** Options common to both servers. */
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

function addressInUse(output: string): boolean {
  return /address already in use|errno 98/i.test(output);
}

function makeStop(started: Started, dataDir: string, keepData: boolean): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      await stopChild(started);
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };
}

/**
 * Starts Debian's Radicale 3 on 127.0.0.1 with a free port, a fresh storage folder and htpasswd (plain) auth.
 * The user has no collections yet: create them with MKCOL/MKCALENDAR or {@link seedRadicaleCollection}.
 * @throws {Error} `/usr/bin/radicale` is missing (names the Debian package), or the server did not come up
 */
export async function startRadicale(options: RadicaleOptions = {}): Promise<TestServer> {
  requireBinary(RADICALE, "radicale");
  const username = options.username ?? "user";
  const password = options.password ?? "password";
  const dataDir = await mkdtemp(join(tmpdir(), "vdirsyncer-radicale-"));
  await writeFile(join(dataDir, "users"), `${username}:${password}\n`, { mode: 0o600 });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
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
    const started = spawnServer(RADICALE, ["-C", join(dataDir, "config")]);
    const url = `http://127.0.0.1:${port}/`;
    try {
      await waitUntilAnswering("radicale", url, started, options.startTimeoutMs ?? 20_000);
    } catch (error) {
      lastError = error;
      await stopChild(started, 1000);
      if (addressInUse(started.output())) continue;
      break;
    }
    return {
      kind: "radicale",
      url,
      username,
      password,
      principal: `/${username}/`,
      homes: { calendar: `${url}${username}/`, addressbook: `${url}${username}/` },
      dataDir,
      pid: started.child.pid ?? -1,
      stop: makeStop(started, dataDir, options.keepData ?? false),
    };
  }
  await rm(dataDir, { recursive: true, force: true });
  throw lastError;
}

/**
 * Starts Debian's Xandikos on 127.0.0.1 with a free port and a fresh storage folder, with `--defaults`, so that
 * `/user/calendars/calendar/` and `/user/contacts/addressbook/` exist. No auth.
 * @throws {Error} `/usr/bin/xandikos` is missing (names the Debian package), or the server did not come up
 */
export async function startXandikos(options: StartOptions = {}): Promise<TestServer> {
  requireBinary(XANDIKOS, "xandikos");
  const dataDir = await mkdtemp(join(tmpdir(), "vdirsyncer-xandikos-"));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const started = spawnServer(XANDIKOS, [
      "-d",
      dataDir,
      "--defaults",
      "--current-user-principal",
      "/user/",
      "-l",
      "127.0.0.1",
      "-p",
      String(port),
    ]);
    const url = `http://127.0.0.1:${port}/`;
    try {
      await waitUntilAnswering("xandikos", url, started, options.startTimeoutMs ?? 20_000);
    } catch (error) {
      lastError = error;
      await stopChild(started, 1000);
      if (addressInUse(started.output())) continue;
      break;
    }
    return {
      kind: "xandikos",
      url,
      principal: "/user/",
      homes: { calendar: `${url}user/calendars/`, addressbook: `${url}user/contacts/` },
      dataDir,
      pid: started.child.pid ?? -1,
      stop: makeStop(started, dataDir, options.keepData ?? false),
    };
  }
  await rm(dataDir, { recursive: true, force: true });
  throw lastError;
}

/** Starts the named server with default options. */
export function startServer(kind: ServerKind, options: StartOptions = {}): Promise<TestServer> {
  return kind === "radicale" ? startRadicale(options) : startXandikos(options);
}

/** The `Authorization` header for a server's test user, or `{}` when it has no auth. */
export function authHeaders(server: Pick<TestServer, "username" | "password">): Record<string, string> {
  if (server.username === undefined) return {};
  const token = Buffer.from(`${server.username}:${server.password ?? ""}`).toString("base64");
  return { authorization: `Basic ${token}` };
}
