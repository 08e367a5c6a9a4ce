/**
 * The real command behind a fault-injecting proxy in front of a real Radicale: one collection of one pair
 * gets the fault, and the command must name the pair, the collection and the URL with a hint, finish the
 * other collection and the other pair, exit non-zero, lose nothing, and converge on the next clean sync.
 */
import type { TestServer } from "@vdirsyncer/test-servers";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { describeRan } from "../src/command.ts";
import { FAULTS, type FaultKind, type FaultProxy, startFaultProxy } from "../src/fault-proxy.ts";
import { FULL } from "../src/full.ts";
import { event, hashOf, readFolder, tally } from "../src/items.ts";
import { newUser, type RadicaleUser, startServer } from "../src/radicale.ts";
import { record } from "../src/record.ts";
import { World } from "../src/world.ts";

let server: TestServer;
let proxy: FaultProxy;

beforeAll(async () => {
  server = await startServer();
  proxy = await startFaultProxy(server.url);
});

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

const COLLS = { p1: ["bad", "good"], p2: ["other"] } as const;

/** Two pairs against the proxy, three items on each side of every collection, discovered. */
async function setup(
  user: RadicaleUser,
): Promise<{ world: World; expected: Map<string, Map<string, string[]>> }> {
  const world = new World("vdirsyncer-faults-");
  const expected = new Map<string, Map<string, string[]>>();
  try {
    for (const [pair, colls] of Object.entries(COLLS)) {
      for (const coll of colls) {
        await user.mkcalendar(coll);
        const exp = new Map<string, string[]>();
        for (let i = 0; i < 3; i++) {
          const local = `${coll}-local-${i}`;
          const remote = `${coll}-remote-${i}`;
          world.write(`${pair}/${coll}/${local}.ics`, event(local));
          exp.set(local, [hashOf(event(local))]);
          exp.set(remote, [hashOf(event(remote))]);
        }
        expected.set(`${pair}/${coll}`, exp);
      }
    }
    // The server's items go in through its storage folder (the proxy stays out of the setup).
    for (const colls of Object.values(COLLS)) {
      for (const coll of colls) {
        user.seed(
          coll,
          [0, 1, 2].map((i) => ({ name: `${coll}-remote-${i}.ics`, text: event(`${coll}-remote-${i}`) })),
        );
      }
    }
    const remote = (name: string) => `[storage ${name}]
  type = "caldav"
  url = "${proxy.url}"
  username = "${user.username}"
  password = "${user.password}"
  timeout = 3
  `;
    world.writeConfig(`[general]
  status_path = "{root}/status/"

  [pair p1]
  a = "local1"
  b = "remote1"
  collections = ["bad", "good"]

  [pair p2]
  a = "local2"
  b = "remote2"
  collections = ["other"]

  [storage local1]
  type = "filesystem"
  path = "{root}/p1/"
  fileext = ".ics"

  [storage local2]
  type = "filesystem"
  path = "{root}/p2/"
  fileext = ".ics"

  ${remote("remote1")}
  ${remote("remote2")}`);
    const d = await world.run(["discover"], { input: "y\n".repeat(10) });
    expect(d.code, describeRan(d)).toBe(0);
  } catch (error) {
    // A failed setup must not leave its folder behind.
    world.dispose();
    throw error;
  }
  return { world, expected };
}

function check(world: World, user: RadicaleUser, expected: Map<string, Map<string, string[]>>, key: string) {
  const [pair, coll] = key.split("/") as [string, string];
  return tally(readFolder(world.path(pair, coll)), user.items(coll), expected.get(key) ?? new Map());
}

/** One fault on p1/bad: what the command must do with it. */
async function faultCase(fault: FaultKind): Promise<void> {
  const user = newUser(server, "fault");
  const { world, expected } = await setup(user);
  try {
    proxy.set({ kind: fault, when: (r) => r.path.includes(`/${user.username}/bad/`) });
    const r = await world.run(["sync"], { timeoutMs: 90_000 });
    const hits = proxy.hits.length;
    proxy.set(undefined);
    const good = check(world, user, expected, "p1/good");
    const other = check(world, user, expected, "p2/other");
    const bad = check(world, user, expected, "p1/bad");
    const errorLines = r.stderr.split("\n").filter((l) => /^(error|critical|warning)/i.test(l));
    const named = /p1\/bad/.test(r.stderr);
    const url =
      r.stderr.includes(`${proxy.url}${user.username}/bad/`) || r.stderr.includes(`/${user.username}/bad/`);
    const hint = /^hint: /m.test(r.stderr);
    const again = await world.run(["sync"]);
    const after = check(world, user, expected, "p1/bad");
    record("faults", fault, {
      hits,
      exit: r.code,
      named,
      url,
      hint,
      othersFinished: good.lost + good.different + other.lost + other.different === 0,
      lost: bad.lost,
      converged: again.code === 0 && after.lost + after.different + after.duplicated === 0,
      message: errorLines.slice(0, 3).join(" | "),
    });
    expect(hits, `the proxy injected ${fault}`).toBeGreaterThan(0);
    expect(r.code, describeRan(r)).not.toBe(0);
    expect(named, `names p1/bad:\n${r.stderr}`).toBe(true);
    expect(url, `names the collection URL:\n${r.stderr}`).toBe(true);
    expect(hint, `gives a hint:\n${r.stderr}`).toBe(true);
    expect(good, "p1/good finished").toMatchObject({ lost: 0, different: 0, duplicated: 0 });
    expect(other, "p2/other finished").toMatchObject({ lost: 0, different: 0, duplicated: 0 });
    expect(bad.lost, `nothing lost in p1/bad: ${bad.details.join("; ")}`).toBe(0);
    expect(again.code, describeRan(again)).toBe(0);
    expect(after, "the clean sync converges").toMatchObject({ lost: 0, different: 0, duplicated: 0 });
  } finally {
    proxy.set(undefined);
    world.dispose();
  }
}

const TITLE =
  "on one collection: named with a hint, the others finish, nothing lost, the next sync converges";

/**
 * The CI run injects one fault per code path of the command: an error status with Retry-After (500 and 429
 * take the same retry path), credentials failing mid-run, a stall past the timeout, a reset connection, a body
 * that is not XML (a truncated one fails in the same parser), a 412 on PUT and a 207 whose propstats failed (a
 * 507 on REPORT is an error status like the first). VDIRSYNCER_RELIABILITY_FULL=1 injects every fault.
 */
const CI_FAULTS: readonly FaultKind[] = [
  "503-retry-after",
  "401-mid-run",
  "stall",
  "reset",
  "invalid-xml",
  "412-on-put",
  "207-wrong-status",
];
const RUN_FAULTS = FULL ? FAULTS : CI_FAULTS;

describe(`fault proxy in front of Radicale (${FULL ? "every fault" : "one fault per code path"})`, () => {
  test.each(RUN_FAULTS)(`%s ${TITLE}`, faultCase);
});
