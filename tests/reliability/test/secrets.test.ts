/**
 * No password, token or Authorization header in any output at any verbosity: the command runs against a
 * real Radicale with unique random secrets (a password in the config, one from password.fetch, one in the
 * URL), at -vdebug, succeeding and failing; every captured output is searched for the secrets and their
 * Base64 and percent-encoded forms. Status files are private (0600).
 */
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import type { TestServer } from "@vdirsyncer/test-servers";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeRan, type Ran } from "../src/command.ts";
import { event } from "../src/items.ts";
import { newUser, startServer } from "../src/radicale.ts";
import { record } from "../src/record.ts";
import { listFiles, World } from "../src/world.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Every form a secret could leak in. */
function forms(username: string, secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    Buffer.from(`${username}:${secret}`).toString("base64"),
    Buffer.from(secret).toString("base64"),
  ];
}

/** A user whose password is a fresh random secret with characters that need quoting in a URL. */
function userWithSecret(prefix: string) {
  // Characters that need quoting in a URL, but no ":" (htpasswd separates user and password with it).
  const secret = `S3cr3t-${randomBytes(9).toString("hex")}/+=@`;
  return { user: newUser(server, prefix, secret), secret };
}

/** What the runs showed, computed once in beforeAll and checked by the tests below. */
let found: {
  labels: string[];
  runs: Ran[];
  synced: string[];
  leaks: { what: string; form: string; run: string; line: string }[];
  authHeaders: string[];
  loose: string[];
};

beforeAll(async () => {
  const world = new World("vdirsyncer-secrets-");
  try {
    const ini = userWithSecret("ini");
    const fetched = userWithSecret("fetch");
    const inUrl = userWithSecret("url");
    for (const u of [ini, fetched, inUrl])
      u.user.seed("cal", [{ name: "s1.ics", text: event(`s-${u.user.username}`) }]);
    const hostPort = server.url.replace(/^http:\/\//, "");
    const urlWithCredentials = `http://${inUrl.user.username}:${encodeURIComponent(inUrl.secret)}@${hostPort}`;
    const wrong = `Wr0ng-${randomBytes(9).toString("hex")}`;
    const pairs = (names: string[]) =>
      names
        .map(
          (n) => `[pair ${n}]
a = "${n}_local"
b = "${n}_remote"
collections = ["from b"]

[storage ${n}_local]
type = "filesystem"
path = "{root}/${n}/"
fileext = ".ics"
`,
        )
        .join("\n");
    world.write("secret-file", fetched.secret);
    world.writeConfig(`[general]
status_path = "{root}/status/"

${pairs(["ini", "fetched", "inurl", "wrong"])}
[storage ini_remote]
type = "caldav"
url = "${server.url}"
username = "${ini.user.username}"
password = "${ini.secret}"

[storage fetched_remote]
type = "caldav"
url = "${server.url}"
username = "${fetched.user.username}"
password.fetch = ["command", "cat", "{root}/secret-file"]

[storage inurl_remote]
type = "caldav"
url = "${urlWithCredentials}"

[storage wrong_remote]
type = "caldav"
url = "${server.url}"
username = "${ini.user.username}"
password = "${wrong}"
`);
    for (const n of ["ini", "fetched", "inurl", "wrong"]) world.write(`${n}/.keep`, "");
    const runs: Ran[] = [];
    const labels: string[] = [];
    const go = async (args: string[], input = "") => {
      labels.push(args.join(" "));
      runs.push(await world.run(["-vdebug", ...args], { input }));
    };
    // The pairs one by one, so that one pair's failure (the wrong password) does not stop the others.
    for (const pair of ["ini", "fetched", "inurl", "wrong"]) {
      await go(["discover", pair], "y\n".repeat(5));
      await go(["sync", pair]);
    }
    await go(["sync", "--json", "ini", "fetched"]);
    await go(["metasync", "ini"]);
    await go(["showconfig"]);
    const output = runs.map((r) => r.stdout + r.stderr).join("\n");
    const secrets: [string, string][] = [
      ...forms(ini.user.username, ini.secret).map((f) => ["password in the config", f] as [string, string]),
      ...forms(fetched.user.username, fetched.secret).map((f) => ["password.fetch", f] as [string, string]),
      ...forms(inUrl.user.username, inUrl.secret).map((f) => ["URL credentials", f] as [string, string]),
      ...forms(ini.user.username, wrong).map((f) => ["a wrong password", f] as [string, string]),
    ];
    const leaks = secrets.flatMap(([what, form]) =>
      runs.flatMap((r, i) =>
        `${r.stdout}${r.stderr}`
          .split("\n")
          .filter((l) => l.includes(form))
          .map((line) => ({ what, form, run: labels[i] as string, line: line.trim().slice(0, 300) })),
      ),
    );
    const authHeaders = output.split("\n").filter((l) => /authorization:\s*\S/i.test(l));
    // The good pairs did sync: the test saw real traffic.
    const synced = ["ini", "fetched"].filter((n) => listFiles(world.path(n)).some((f) => f.endsWith(".ics")));
    const statusFiles = listFiles(world.path("status")).filter((f) => !f.endsWith(".lock"));
    const loose = statusFiles.filter((f) => (statSync(world.path("status", f)).mode & 0o077) !== 0);
    record("secrets", "all", {
      runs: runs.length,
      outputBytes: output.length,
      secretsChecked: secrets.length,
      leaks: leaks.length,
      leakedIn: [...new Set(leaks.map((l) => `\`${l.run}\``))].join(", "),
      authorizationLines: authHeaders.length,
      statusFiles: statusFiles.length,
      notPrivate: loose.length,
    });
    found = {
      labels,
      runs,
      synced,
      leaks,
      authHeaders,
      loose: loose.map((f) => `${f} ${(statSync(world.path("status", f)).mode & 0o777).toString(8)}`),
    };
  } finally {
    world.dispose();
  }
}, 400_000);

const show = (l: { what: string; run: string; line: string }) => `${l.what} in \`${l.run}\`: ${l.line}`;

test("discover, sync, sync --json and metasync at -vdebug print no secret and no Authorization header", () => {
  expect(found.synced, found.runs.map((r, i) => `${found.labels[i]}: ${describeRan(r)}`).join("\n")).toEqual([
    "ini",
    "fetched",
  ]);
  expect(found.leaks.filter((l) => l.run !== "showconfig" && !l.run.endsWith(" inurl")).map(show)).toEqual(
    [],
  );
  expect(found.authHeaders).toEqual([]);
});

// A caldav `url` with credentials (`http://user:secret@host/`, which Python vdirsyncer's requests turns into Basic
// auth) is refused once at the option check, telling to use `username`/`password`, and never printed with them (it
// used to be retried 5 times and printed with the password).
test("a URL with credentials is refused without printing them", () => {
  expect(found.leaks.filter((l) => l.run.endsWith(" inurl")).map(show)).toEqual([]);
  expect(found.runs[found.labels.indexOf("sync inurl")]?.code).toBe(1);
});

test("status files are private (0600)", () => {
  expect(found.loose).toEqual([]);
});

// showconfig masks the values of secret keys and the userinfo of URLs.
test("showconfig prints no secret", () => {
  expect(found.leaks.filter((l) => l.run === "showconfig").map(show)).toEqual([]);
});
