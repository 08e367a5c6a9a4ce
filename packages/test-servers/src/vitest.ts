import { inject } from "vitest";
import { SERVER_KINDS, type ServerKind, startServer, type TestServer } from "./servers.ts";

/** What a test sees of a server started by {@link setupServers}: everything but `stop()` and `addAccount()`. */
export type ServerInfo = Omit<TestServer, "stop" | "addAccount">;

/** The servers a test run shares, keyed by kind. */
export type TestServers = Record<ServerKind, ServerInfo>;

declare module "vitest" {
  interface ProvidedContext {
    vdirsyncerTestServers: TestServers;
  }
}

function info(server: TestServer): ServerInfo {
  const { stop: _stop, addAccount: _addAccount, ...rest } = server;
  return rest;
}

/** A project's account name: its package name without scope, e.g. `storage-caldav`; unique within the run. */
function accountName(projectName: string, taken: Set<string>): string {
  const base =
    projectName
      .replace(/^@[^/]*\//, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^[^a-z]+|-+$/g, "")
      .slice(0, 32) || "project";
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  taken.add(name);
  return name;
}

/** One run's shared server set: started by the first project's global setup, stopped after the last one's. */
interface SharedSet {
  users: number;
  servers: Promise<TestServer[]>;
  accounts: Set<string>;
}

// Every project's global setup runs in the same vitest process, before any test, but through its own module
// runner, so module state is per project: the shared set lives on globalThis.
const SHARED = Symbol.for("@vdirsyncer/test-servers/shared-set");
type WithShared = typeof globalThis & { [SHARED]?: SharedSet };

async function startAll(): Promise<TestServer[]> {
  const begin = performance.now();
  const times: string[] = [];
  const results = await Promise.allSettled(
    SERVER_KINDS.map(async (kind) => {
      const t0 = performance.now();
      const server = await startServer(kind);
      times.push(`${kind} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return server;
    }),
  );
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.flatMap((r, i) =>
    r.status === "rejected" ? [[SERVER_KINDS[i], r.reason] as const] : [],
  );
  if (failed.length > 0) {
    await Promise.all(started.map((s) => s.stop()));
    const [kind, reason] = failed[0] as readonly [ServerKind, unknown];
    const message = reason instanceof Error ? reason.message : String(reason);
    throw new Error(`The test server ${kind} did not start: ${message}`, { cause: reason });
  }
  const total = ((performance.now() - begin) / 1000).toFixed(1);
  // One line per run, so that CI logs show what starting the servers cost.
  console.log(`[test-servers] ${SERVER_KINDS.length} servers started in ${total} s (${times.join(", ")})`);
  return started;
}

/**
 * A vitest `globalSetup`: starts Radicale, Xandikos, Cyrus and DAViCal once per `vitest run` (however many
 * projects list this setup, they share one set), adds an account for this project on each (named after the
 * project, e.g. `storage-caldav`; Xandikos has a single anonymous user), hands URLs and credentials to the tests
 * (`inject("vdirsyncerTestServers")`, or {@link testServers}; the URLs also in `VDIRSYNCER_TEST_<KIND>_URL`) and
 * returns the teardown; the last project's teardown stops them.
 *
 * Re-export it from a `test/global-setup.ts` of your own and list that file in `globalSetup`.
 * Tests sharing these servers MUST each create their own collections.
 * @throws {Error} a binary is missing (the message names the Debian package) or a server did not come up
 */
export async function setupServers(project: {
  name?: string;
  provide: (key: "vdirsyncerTestServers", value: TestServers) => void;
}): Promise<() => Promise<void>> {
  const g = globalThis as WithShared;
  const shared = g[SHARED] ?? { users: 0, servers: startAll(), accounts: new Set<string>() };
  g[SHARED] = shared;
  shared.users++;
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    shared.users--;
    if (shared.users > 0) return;
    if (g[SHARED] === shared) delete g[SHARED];
    const servers = await shared.servers.catch(() => [] as TestServer[]);
    await Promise.all(servers.map((s) => s.stop()));
  };
  let servers: TestServers;
  let list: TestServer[];
  try {
    list = await shared.servers;
    // Each project gets its own account on every server (the suites create collections with fixed names, and
    // Cyrus wants UIDs unique per user), as if it had servers of its own.
    const account = accountName(project.name ?? "", shared.accounts);
    const password = `${account}-secret`;
    const entries = await Promise.all(
      list.map(async (s) => [s.kind, { ...info(s), ...(await s.addAccount(account, password)) }] as const),
    );
    servers = Object.fromEntries(entries) as TestServers;
  } catch (error) {
    await release();
    throw error;
  }
  project.provide("vdirsyncerTestServers", servers);
  for (const s of list) process.env[`VDIRSYNCER_TEST_${s.kind.toUpperCase()}_URL`] = s.url;
  return release;
}

/** Inside a test: the servers {@link setupServers} started for this run. */
export function testServers(): TestServers {
  const servers = inject("vdirsyncerTestServers");
  if (!servers) {
    throw new Error(
      'No test servers: add `globalSetup: ["@vdirsyncer/test-servers/global-setup"]` to the vitest config.',
    );
  }
  return servers;
}

/** One of the real servers a storage plugin's tests run against, with the options that reach its DAV root. */
export interface ServerCase {
  name: ServerKind;
  options: { url: string; username?: string; password?: string };
}

/**
 * Radicale (htpasswd auth), Xandikos (no auth), Cyrus and DAViCal (both `test`/`test`), as started by
 * {@link setupServers}, as plugin options.
 */
export function serverCases(): ServerCase[] {
  const servers = testServers();
  const auth = (s: ServerInfo) =>
    s.username !== undefined && s.password !== undefined
      ? { username: s.username, password: s.password }
      : {};
  return SERVER_KINDS.map((name) => ({
    name,
    options: { url: servers[name].url, ...auth(servers[name]) },
  }));
}
