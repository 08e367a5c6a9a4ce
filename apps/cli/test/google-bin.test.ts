/**
 * The real, built command (`bin/vdirsyncer.js` in a child process) with a Google calendar behind the stand-in and
 * an http feed: the first authorisation runs headless as over SSH (URL on stderr, the redirect address pasted on
 * stdin), the question that follows reads the same stdin, and the token file is written with mode 0600.
 */
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ENDPOINTS_ENV } from "@vdirsyncer/storage-google";
import { afterEach, beforeAll, expect, test } from "vitest";
import { GoogleStandIn } from "../../../plugins/storage-google/test/stand-in.ts";
import { account, event, RawDav } from "./dav-helpers.ts";
import { BIN, describeRun, ensureBuilt, type Ran, Sandbox } from "./interop/built-bin.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(() => {
  ensureBuilt();
}, 300_000);

/**
 * Runs the built command and talks to it (asynchronously: the stand-in and the feed live in this process, so a
 * synchronous spawn would starve them): each `[pattern, reply]` waits (bounded) until stderr matches `pattern`
 * and then writes `reply(match)` to stdin; stdin is closed after the last reply.
 */
async function converse(
  box: Sandbox,
  args: readonly string[],
  env: Record<string, string>,
  script: [RegExp, (m: RegExpExecArray) => Promise<string> | string][],
): Promise<Ran> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: box.home,
    env: { ...box.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  let stdout = "";
  let stderr = "";
  let from = 0;
  const waiters: (() => void)[] = [];
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let ended = false;
  exited.then(() => {
    ended = true;
    for (const w of waiters.splice(0)) w();
  });
  for (const [pattern, reply] of script) {
    let m: RegExpExecArray | null = null;
    for (;;) {
      const rest = stderr.slice(from);
      m = pattern.exec(rest);
      if (m || ended) break;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    if (!m) break;
    from += m.index + m[0].length;
    child.stdin.write(await reply(m));
  }
  child.stdin.end();
  const code = await exited;
  clearTimeout(killer);
  return { code, stdout, stderr, command: `vdirsyncer ${args.join(" ")}` };
}

/** A feed server for one holiday, counting its requests. */
async function holidayFeed(): Promise<{ url: string; requests: () => number }> {
  let count = 0;
  const server: Server = createServer((_req, res) => {
    count++;
    res.setHeader("Content-Type", "text/calendar");
    res.setHeader("ETag", '"h1"');
    if (_req.headers["if-none-match"] === '"h1"') {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.end(
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//holidays//EN\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\n" +
        "DTSTART;VALUE=DATE:20251225\r\nSUMMARY:Christmas Day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/holidays.ics`,
    requests: () => count,
  };
}

test("built bin: first Google authorisation headless over stdin, token 0600, discover + sync both ways, and an http feed", async () => {
  const acc = await account("radicale");
  const standIn = await GoogleStandIn.start({
    url: acc.url,
    username: acc.username as string,
    password: acc.password as string,
  });
  cleanups.push(() => standIn.close());
  const dav = new RawDav(acc);
  await standIn.newCalendar("family");
  await dav.put("caldav", "family", "g1.ics", event("g1", "From Google"));
  const feed = await holidayFeed();

  const box = new Sandbox("vdirsyncer-google-bin-");
  cleanups.push(() => box.dispose());
  box.write(
    ".config/vdirsyncer/config",
    `[general]
status_path = "~/.local/share/vdirsyncer/status/"

[pair gcal]
a = "gcal_local"
b = "gcal_remote"
collections = ["from b"]

[storage gcal_local]
type = "filesystem"
path = "~/calendars/"
fileext = ".ics"

[storage gcal_remote]
type = "google_calendar"
token_file = "~/.config/vdirsyncer/google_calendar_token"
client_id = "${standIn.clientId}"
client_secret.fetch = ["command", "printf", "%s", "${standIn.clientSecret}"]

[pair holidays]
a = "holidays_local"
b = "holidays_remote"
collections = null
partial_sync = "ignore"

[storage holidays_local]
type = "filesystem"
path = "~/holidays/"
fileext = ".ics"

[storage holidays_remote]
type = "http"
url = "${feed.url}"
`,
  );
  box.write("holidays/.keep", "");
  const env = { [ENDPOINTS_ENV]: JSON.stringify(standIn.endpoints), VDIRSYNCER_GOOGLE_HEADLESS: "1" };

  // The user opens the printed URL in a browser elsewhere; the browser is sent to the loopback address, which it
  // cannot load there. The user pastes that address, then answers the question about the missing local folder.
  let pasted = "";
  const d = await converse(box, ["discover"], env, [
    [
      /^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)\n[\s\S]*paste it here:\n/m,
      async (m) => {
        const res = await fetch(m[1] as string, { redirect: "manual" });
        expect(res.status).toBe(302);
        pasted = res.headers.get("location") as string;
        expect(pasted).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/?\?.*code=/);
        return `${pasted}\n`;
      },
    ],
    [/Should vdirsyncer attempt to create it\? \[y\/N\]: $/, () => "y\n"],
  ]);
  expect(d.code, describeRun(d)).toBe(0);
  expect(d.stderr).toContain('Saved for gcal: collections = ["family"]');
  expect(d.stderr).toContain("Saved for holidays: collections = null");
  expect(standIn.tokenGrants).toEqual(["authorization_code"]);

  const tokenPath = box.path(".config/vdirsyncer/google_calendar_token");
  expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
  const token = JSON.parse(box.read(".config/vdirsyncer/google_calendar_token")) as Record<string, unknown>;
  expect(token).toMatchObject({ token_type: "Bearer", scope: ["https://www.googleapis.com/auth/calendar"] });
  expect(typeof token.refresh_token).toBe("string");
  expect(typeof token.expires_at).toBe("number");
  for (const secret of [token.access_token, token.refresh_token, standIn.clientSecret]) {
    expect(d.stderr + d.stdout).not.toContain(secret as string);
  }
  expect(d.stderr + d.stdout).not.toContain(new URL(pasted).searchParams.get("code") as string);

  const s = await converse(box, ["sync"], env, []);
  expect(s.code, describeRun(s)).toBe(0);
  expect(s.stderr).toContain("Copying (uploading) item g1 to gcal_local/family");
  expect(s.stderr).toMatch(/Copying \(uploading\) item \w+ to holidays_local\n/);
  expect(box.read("calendars/family/g1.ics")).toContain("SUMMARY:From Google");
  expect(box.files("holidays").filter((f) => f.endsWith(".ics"))).toHaveLength(1);
  // No second authorisation: the saved token serves the new process.
  expect(standIn.authorizations).toHaveLength(1);

  box.write("calendars/family/l1.ics", event("l1", "From the laptop"));
  const up = await converse(box, ["sync"], env, []);
  expect(up.code, describeRun(up)).toBe(0);
  expect(up.stderr).toContain("Copying (uploading) item l1 to gcal_remote/family");
  expect(Object.values(await dav.items("caldav", "family")).join("")).toContain("SUMMARY:From the laptop");

  const feedRequests = feed.requests();
  const again = await converse(box, ["sync"], env, []);
  expect(again.code, describeRun(again)).toBe(0);
  const lines = again.stderr
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith(`warning: ${ENDPOINTS_ENV}`));
  expect(lines.sort()).toEqual(["Syncing gcal/family", "Syncing holidays"]);
  expect(feed.requests() - feedRequests).toBe(1);
}, 180_000);
