// The headless flow in a real process: the URL goes to its stderr and the pasted address comes through its stdin,
// with no display, as when vdirsyncer runs over SSH.
import { spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { removeFreshDirs } from "@vdirsyncer/storage-test-suite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ENDPOINTS_ENV } from "../src/endpoints.ts";
import { freshTokenPath, startStandIn } from "./helpers.ts";
import type { GoogleStandIn } from "./stand-in.ts";

let standIn: GoogleStandIn;
beforeAll(async () => {
  standIn = await startStandIn();
});
afterAll(async () => {
  await standIn.close();
  await removeFreshDirs();
});

it("a process without a display prints the URL on stderr and completes with the address pasted on stdin", async () => {
  const calendarId = `stdin-${Date.now()}`;
  await standIn.newCalendar(calendarId);
  const tokenFile = await freshTokenPath();
  const fixture = fileURLToPath(new URL("./fixtures/headless-child.ts", import.meta.url));
  const env: NodeJS.ProcessEnv = { ...process.env, [ENDPOINTS_ENV]: JSON.stringify(standIn.endpoints) };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  delete env.VDIRSYNCER_GOOGLE_HEADLESS;
  const child = spawn(
    process.execPath,
    ["--conditions=source", fixture, tokenFile, standIn.clientId, standIn.clientSecret],
    { env, stdio: ["pipe", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  const link = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m.exec(stderr);
      if (m && /paste it here/.test(stderr)) resolve(m[1] as string);
    });
    child.once("exit", (code) =>
      reject(new Error(`child exited (${code}) before printing the URL: ${stderr}`)),
    );
  });
  const res = await fetch(link, { redirect: "manual" });
  const redirect = res.headers.get("location") as string;
  child.stdin.write(`${redirect}\n`);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  expect(code, stderr).toBe(0);
  expect(JSON.parse(stdout)).toContain(calendarId);
  expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
  const token = JSON.parse(await readFile(tokenFile, "utf8")) as Record<string, string>;
  expect(stderr).not.toContain(token.access_token);
  expect(stderr).not.toContain(token.refresh_token);
  expect(stderr).not.toContain(standIn.clientSecret);
});
