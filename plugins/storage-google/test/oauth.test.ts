import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { isVdirsyncerError } from "@vdirsyncer/core";
import { freshDir, removeFreshDirs } from "@vdirsyncer/storage-test-suite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isHeadless } from "../src/authorize.ts";
import { GOOGLE_SCOPES } from "../src/endpoints.ts";
import { createGoogleStorage, type GoogleOverrides } from "../src/google.ts";
import { freshTokenPath, recordingContext, startStandIn } from "./helpers.ts";
import type { GoogleStandIn } from "./stand-in.ts";

let standIn: GoogleStandIn;
beforeAll(async () => {
  standIn = await startStandIn();
});
afterAll(async () => {
  await standIn.close();
  await removeFreshDirs();
});

/** A terminal stand-in: collects what is written, and waits for text to appear. */
class Screen extends Writable {
  text = "";
  #waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    this.#waiters = this.#waiters.filter((w) => {
      const m = w.re.exec(this.text);
      if (m) w.resolve(m);
      return !m;
    });
    done();
  }
  waitFor(re: RegExp): Promise<RegExpExecArray> {
    const m = re.exec(this.text);
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => this.#waiters.push({ re, resolve }));
  }
}

const URL_LINE = /(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)/;

/** The browser's part: ask the authorization endpoint, return where it redirects. */
async function approve(authUrl: string): Promise<string> {
  const res = await fetch(authUrl, { redirect: "manual" });
  expect(res.status).toBe(302);
  return res.headers.get("location") as string;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function setup(tokenFile: string, overrides: GoogleOverrides = {}) {
  const ctx = recordingContext();
  const storage = createGoogleStorage(
    "calendar",
    { token_file: tokenFile, client_id: standIn.clientId, client_secret: standIn.clientSecret },
    ctx,
    { endpoints: standIn.endpoints, ...overrides },
  );
  return { ctx, storage };
}

/** Starts a request that needs a token: discovery of calendars. */
function discover(storage: ReturnType<typeof setup>["storage"]) {
  return collect(storage.discover!());
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

function expectNoSecrets(haystack: string, token: Record<string, unknown>): void {
  for (const secret of [token.access_token, token.refresh_token, standIn.clientSecret]) {
    expect(typeof secret).toBe("string");
    expect(haystack).not.toContain(secret as string);
  }
}

describe("first authorisation", () => {
  it("follows the printed URL through the loopback redirect with PKCE and state, and saves a 0600 token file", async () => {
    const tokenFile = await freshTokenPath();
    const screen = new Screen();
    const { ctx, storage } = setup(tokenFile, { ui: { headless: false, output: screen, env: {} } });
    const before = standIn.authorizations.length;
    const running = discover(storage);
    const [, link] = await screen.waitFor(URL_LINE);
    expect(screen.text).toContain(`Opening ${link} ...`);
    const redirect = await approve(link as string);
    expect(redirect).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/?\?/);
    const page = await fetch(redirect);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Successfully obtained token.");
    await running;
    await storage.close?.();

    const asked = standIn.authorizations[before] as URLSearchParams;
    expect(asked.get("code_challenge_method")).toBe("S256");
    expect(asked.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(asked.get("state")).toMatch(/^[\w-]{16,}$/);
    expect(asked.get("access_type")).toBe("offline");
    expect(asked.get("prompt")).toBe("consent");
    expect(asked.has("approval_prompt")).toBe(false);
    expect(asked.get("scope")).toBe(GOOGLE_SCOPES.calendar);
    expect(asked.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(screen.text).toContain("Follow the instructions on the page.");

    expect(await mode(tokenFile)).toBe(0o600);
    const token = JSON.parse(await readFile(tokenFile, "utf8")) as Record<string, unknown>;
    expect(Object.keys(token).sort()).toEqual(
      ["access_token", "expires_at", "expires_in", "refresh_token", "scope", "token_type"].sort(),
    );
    expect(token.scope).toEqual([GOOGLE_SCOPES.calendar]);
    expect(token.token_type).toBe("Bearer");
    expect(Math.abs((token.expires_at as number) - (Date.now() / 1000 + 3600))).toBeLessThan(60);
    // The code went to the stand-in's token endpoint with the verifier it checks.
    expect(standIn.tokenGrants).toContain("authorization_code");
    expectNoSecrets(ctx.lines.join("\n") + screen.text, token);
    expect(screen.text).not.toContain(new URL(redirect).searchParams.get("code") as string);
  });

  it("opens a graphical browser with xdg-open when there is a display, never a text browser from $BROWSER", async () => {
    const bin = await freshDir();
    const seen = join(bin, "seen.txt");
    await writeFile(join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s\\n%s\\n' "$1" "$BROWSER" > "${seen}"\n`, {
      mode: 0o755,
    });
    const screen = new Screen();
    const env = { PATH: `${bin}:/usr/bin:/bin`, DISPLAY: ":99", BROWSER: "lynx:firefox:w3m" };
    const { storage } = setup(await freshTokenPath(), { ui: { output: screen, env, platform: "linux" } });
    const running = discover(storage);
    const [, link] = await screen.waitFor(URL_LINE);
    let opened = "";
    for (let i = 0; i < 200 && opened === ""; i++) {
      opened = await readFile(seen, "utf8").catch(() => "");
      if (opened === "") await new Promise((r) => setTimeout(r, 25));
    }
    const [url, browser] = opened.split("\n");
    expect(url).toBe(link);
    expect(browser).toBe("firefox");
    await fetch(await approve(url as string));
    await running;
    await storage.close?.();
  });

  it("headless: the pasted redirect address completes it, after junk and a foreign state are refused", async () => {
    const tokenFile = await freshTokenPath();
    const screen = new Screen();
    const input = new PassThrough();
    const { storage } = setup(tokenFile, { ui: { headless: true, output: screen, input } });
    const running = discover(storage);
    const [, link] = await screen.waitFor(URL_LINE);
    expect(screen.text).toContain("paste it here");
    const redirect = await approve(link as string);
    input.write("hello world\n");
    await screen.waitFor(/does not look like a code/);
    const foreign = new URL(redirect);
    foreign.searchParams.set("state", "someone-elses-state");
    input.write(`${foreign}\n`);
    await screen.waitFor(/another authorisation attempt/);
    input.write(`  ${redirect}  \n`);
    await running;
    await storage.close?.();
    expect(await mode(tokenFile)).toBe(0o600);
  });

  it("headless: a bare code, percent-encoded as copied from the address bar, completes it", async () => {
    const tokenFile = await freshTokenPath();
    const screen = new Screen();
    const input = new PassThrough();
    const { storage } = setup(tokenFile, { ui: { headless: true, output: screen, input } });
    const running = discover(storage);
    const [, link] = await screen.waitFor(URL_LINE);
    const code = new URL(await approve(link as string)).searchParams.get("code") as string;
    input.write(`${encodeURIComponent(code)}\n`);
    await running;
    await storage.close?.();
    const token = JSON.parse(await readFile(tokenFile, "utf8")) as Record<string, unknown>;
    expect(typeof token.refresh_token).toBe("string");
  });

  it("headless: input that ends before a code fails with a clear message", async () => {
    const screen = new Screen();
    const input = new PassThrough();
    const { storage } = setup(await freshTokenPath(), { ui: { headless: true, output: screen, input } });
    const running = discover(storage);
    await screen.waitFor(URL_LINE);
    input.end();
    await expect(running).rejects.toThrow(/input ended before a code was pasted/);
    await storage.close?.();
  });

  it("a refusal on the consent page becomes a UserError that says what to do", async () => {
    const screen = new Screen();
    const { storage } = setup(await freshTokenPath(), { ui: { headless: false, output: screen, env: {} } });
    standIn.deny = true;
    try {
      // The handler goes on at once: the failure arrives while the test is still playing the browser.
      const running = discover(storage).then(
        () => undefined,
        (e: unknown) => e,
      );
      const [, link] = await screen.waitFor(URL_LINE);
      await fetch(await approve(link as string));
      const error = await running;
      expect(isVdirsyncerError(error, "USER")).toBe(true);
      expect((error as Error).message).toContain("access_denied");
      expect((error as { hint?: string }).hint).toContain("Allow");
    } finally {
      standIn.deny = false;
      await storage.close?.();
    }
  });

  it("headless mode is chosen without DISPLAY and WAYLAND_DISPLAY, or by VDIRSYNCER_GOOGLE_HEADLESS", () => {
    expect(isHeadless({ env: {}, platform: "linux" })).toBe(true);
    expect(isHeadless({ env: { DISPLAY: ":0" }, platform: "linux" })).toBe(false);
    expect(isHeadless({ env: { WAYLAND_DISPLAY: "wayland-0" }, platform: "linux" })).toBe(false);
    expect(isHeadless({ env: { DISPLAY: ":0", VDIRSYNCER_GOOGLE_HEADLESS: "1" }, platform: "linux" })).toBe(
      true,
    );
    expect(isHeadless({ env: { VDIRSYNCER_GOOGLE_HEADLESS: "0" }, platform: "linux" })).toBe(false);
    expect(isHeadless({ env: { SSH_CONNECTION: "1.2.3.4 1 5.6.7.8 22" }, platform: "darwin" })).toBe(true);
  });
});

/** A token file as vdirsyncer (requests-oauthlib) writes it: scope as a list, a float expires_at, extra keys. */
async function vdirsyncerTokenFile(token: Record<string, unknown>, fileMode = 0o644): Promise<string> {
  const path = join(await freshDir(), "google_token");
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify({ ...token, id_token: "keep-me" }));
  await chmod(path, fileMode);
  return path;
}

describe("tokens", () => {
  it("an expired access token is refreshed before use and saved (0600), keeping the refresh token and other keys", async () => {
    const issued = standIn.issueToken(GOOGLE_SCOPES.calendar);
    const path = await vdirsyncerTokenFile({ ...issued, expires_at: Date.now() / 1000 - 10.25 });
    const grants = standIn.tokenGrants.length;
    const seenBefore = standIn.seen.length;
    const { ctx, storage } = setup(path);
    await discover(storage);
    await storage.close?.();
    expect(standIn.tokenGrants.slice(grants)).toEqual(["refresh_token"]);
    // The refresh happened first: no request went out with the old token.
    expect(standIn.seen.slice(seenBefore).every((r) => r.authorized)).toBe(true);
    const saved = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    expect(saved.access_token).not.toBe(issued.access_token);
    expect(saved.refresh_token).toBe(issued.refresh_token);
    expect(saved.id_token).toBe("keep-me");
    expect(saved.scope).toEqual([GOOGLE_SCOPES.calendar]);
    expect(saved.expires_at as number).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect(await mode(path)).toBe(0o600);
    expectNoSecrets(ctx.lines.join("\n"), saved);
    expectNoSecrets(ctx.lines.join("\n"), issued);
  });

  it("a 401 on a token that looks valid refreshes once and repeats the request", async () => {
    const issued = standIn.issueToken(GOOGLE_SCOPES.calendar);
    const path = await vdirsyncerTokenFile(issued, 0o600);
    standIn.expireAccessTokens();
    const grants = standIn.tokenGrants.length;
    const seenBefore = standIn.seen.length;
    const { storage } = setup(path);
    const found = await discover(storage);
    await storage.close?.();
    expect(Array.isArray(found)).toBe(true);
    expect(standIn.tokenGrants.slice(grants)).toEqual(["refresh_token"]);
    const mine = standIn.seen.slice(seenBefore);
    expect(mine[0]?.authorized).toBe(false);
    expect(mine.slice(1).every((r) => r.authorized)).toBe(true);
  });

  it("a revoked or expired refresh token says so, names the 7-day Testing expiry and how to fix it", async () => {
    const issued = standIn.issueToken(GOOGLE_SCOPES.calendar);
    standIn.revoke(issued.refresh_token as string);
    const path = await vdirsyncerTokenFile({ ...issued, expires_at: Date.now() / 1000 - 1 }, 0o600);
    const { storage } = setup(path);
    const error = await discover(storage).then(
      () => undefined,
      (e: unknown) => e,
    );
    await storage.close?.();
    expect(isVdirsyncerError(error, "USER")).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(path);
    expect(message).toContain("invalid_grant");
    expect(message).toMatch(/revoked/);
    expect(message).toMatch(/expired/);
    expect(message).toContain("7 days");
    expect(message).toContain('"Testing"');
    const hint = (error as { hint?: string }).hint ?? "";
    expect(hint).toContain("In production");
    expect(hint).toContain(`delete ${path}`);
    expect(message + hint).not.toContain(issued.refresh_token as string);
  });

  it("an unreadable token file gives vdirsyncer's message and is left alone", async () => {
    const path = join(await freshDir(), "token.json");
    await writeFile(path, "{not json", { mode: 0o600 });
    const { storage } = setup(path);
    const error = await discover(storage).then(
      () => undefined,
      (e: unknown) => e,
    );
    await storage.close?.();
    expect(isVdirsyncerError(error, "USER")).toBe(true);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Failed to load token file ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, try deleting it\\.`,
      ),
    );
    expect(await readFile(path, "utf8")).toBe("{not json");
  });

  it("two storages on one token file share one authorisation", async () => {
    const tokenFile = await freshTokenPath();
    const screen = new Screen();
    const ui = { headless: false, output: screen, env: {} };
    const a = setup(tokenFile, { ui });
    const b = setup(tokenFile, { ui });
    const before = standIn.authorizations.length;
    const both = Promise.all([discover(a.storage), discover(b.storage)]);
    const [, link] = await screen.waitFor(URL_LINE);
    await fetch(await approve(link as string));
    await both;
    expect(standIn.authorizations.length - before).toBe(1);
    expect(screen.text.match(/Opening /g)).toHaveLength(1);
    await a.storage.close?.();
    await b.storage.close?.();
  });
});
