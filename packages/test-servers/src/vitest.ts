import { inject } from "vitest";
import { type ServerKind, startRadicale, startXandikos, type TestServer } from "./servers.ts";

/** What a test sees of a server started by {@link setupServers}: everything but `stop()`. */
export type ServerInfo = Omit<TestServer, "stop">;

/** The servers one test project shares, keyed by kind. */
export type TestServers = Record<ServerKind, ServerInfo>;

declare module "vitest" {
  interface ProvidedContext {
    vdirsyncerTestServers: TestServers;
  }
}

function info(server: TestServer): ServerInfo {
  const { stop: _stop, ...rest } = server;
  return rest;
}

/**
 * A vitest `globalSetup`: starts Radicale and Xandikos once per test project, hands their URLs to the tests
 * (`inject("vdirsyncerTestServers")`, or {@link testServers}; also the env vars `VDIRSYNCER_TEST_RADICALE_URL`
 * and `VDIRSYNCER_TEST_XANDIKOS_URL`) and returns the teardown that stops both.
 *
 * Re-export it from a `test/global-setup.ts` of your own and list that file in `globalSetup`.
 * Tests sharing these servers MUST each create their own collections.
 * @throws {Error} a binary is missing (the message names the Debian package) or a server did not come up
 */
export async function setupServers(project: {
  provide: (key: "vdirsyncerTestServers", value: TestServers) => void;
}): Promise<() => Promise<void>> {
  const [radicale, xandikos] = await Promise.allSettled([startRadicale(), startXandikos()]);
  const started = [radicale, xandikos].flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const teardown = async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
  if (radicale.status === "rejected" || xandikos.status === "rejected") {
    await teardown();
    throw radicale.status === "rejected" ? radicale.reason : (xandikos as PromiseRejectedResult).reason;
  }
  const servers: TestServers = { radicale: info(radicale.value), xandikos: info(xandikos.value) };
  project.provide("vdirsyncerTestServers", servers);
  process.env.VDIRSYNCER_TEST_RADICALE_URL = servers.radicale.url;
  process.env.VDIRSYNCER_TEST_XANDIKOS_URL = servers.xandikos.url;
  return teardown;
}

/** Inside a test: the servers {@link setupServers} started for this project. */
export function testServers(): TestServers {
  const servers = inject("vdirsyncerTestServers");
  if (!servers) {
    throw new Error(
      'No test servers: add `globalSetup: ["@vdirsyncer/test-servers/global-setup"]` to the vitest config.',
    );
  }
  return servers;
}

/** One of the two real servers a storage plugin's tests run against, with the options that reach its root. */
export interface ServerCase {
  name: ServerKind;
  options: { url: string; username?: string; password?: string };
}

/** Radicale (htpasswd auth) and Xandikos (no auth), as started by {@link setupServers}, as plugin options. */
export function serverCases(): ServerCase[] {
  const servers = testServers();
  const auth = (s: ServerInfo) =>
    s.username !== undefined && s.password !== undefined
      ? { username: s.username, password: s.password }
      : {};
  return (["radicale", "xandikos"] as const).map((name) => ({
    name,
    options: { url: servers[name].url, ...auth(servers[name]) },
  }));
}
