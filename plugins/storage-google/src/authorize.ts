/**
 * The first authorisation: OAuth 2.0 for installed apps (RFC 8252) with a loopback redirect on 127.0.0.1, PKCE
 * (RFC 7636, S256) and `state`. Google blocked the out-of-band flow in 2022, and its device flow does not cover the
 * calendar and CardDAV scopes, so the loopback redirect is the only way; on a machine without a browser the user
 * opens the URL elsewhere and pastes back the address the browser could not load (headless mode).
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { createInterface } from "node:readline";
import { type Logger, UserError } from "@vdirsyncer/core";
import { hasGraphicalDisplay, openGraphicalBrowser } from "./browser.ts";

/** The environment variable that forces headless mode (`1`) or forbids it (`0`). */
export const HEADLESS_ENV = "VDIRSYNCER_GOOGLE_HEADLESS";

/** How the authorisation talks to the user. */
export interface AuthorizeUi {
  /** Where the URL and instructions are written. @default process.stderr (stdout stays for `--json`) */
  output?: NodeJS.WritableStream;
  /** Where a pasted redirect address or code is read in headless mode. @default process.stdin */
  input?: NodeJS.ReadableStream;
  /** `true`: print the URL and read the paste; `false`: open a browser. @default from {@link HEADLESS_ENV}, else no display */
  headless?: boolean;
  /** The environment the display is judged from and the browser is started with. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The platform the browser opener is chosen for. @default process.platform */
  platform?: NodeJS.Platform;
}

/** What the authorisation needs to know. */
export interface AuthorizeRequest {
  authorizeUrl: string;
  clientId: string;
  scope: string;
  /** What is being authorised, for the instructions (`Google Calendar`). */
  what: string;
  log: Logger;
  signal?: AbortSignal;
  ui?: AuthorizeUi;
}

/** The result of the browser step: what the token endpoint needs to issue the first token. */
export interface AuthorizationCode {
  code: string;
  redirectUri: string;
  codeVerifier: string;
}

function base64url(bytes: Buffer): string {
  return bytes.toString("base64url");
}

/** A PKCE verifier (64 characters, RFC 7636 §4.1) and its S256 challenge. */
export function makePkce(): { verifier: string; challenge: string } {
  const verifier = base64url(randomBytes(48));
  const challenge = base64url(createHash("sha256").update(verifier, "ascii").digest());
  return { verifier, challenge };
}

/** Decides headless mode: the explicit setting, then {@link HEADLESS_ENV}, then "no graphical display". */
export function isHeadless(ui: AuthorizeUi = {}): boolean {
  if (ui.headless !== undefined) return ui.headless;
  const env = ui.env ?? process.env;
  const forced = env[HEADLESS_ENV];
  if (forced !== undefined && forced !== "") return !["0", "false", "no"].includes(forced.toLowerCase());
  return !hasGraphicalDisplay(env, ui.platform ?? process.platform);
}

/** What one redirect (or pasted address) said. */
type Outcome = { code: string } | { error: string } | { mismatch: true } | undefined;

function readRedirect(params: URLSearchParams, state: string): Outcome {
  const error = params.get("error");
  const code = params.get("code");
  const got = params.get("state");
  if (got !== null && got !== state) return { mismatch: true };
  if (error !== null) return { error };
  if (code !== null && got === state) return { code };
  return undefined;
}

function refused(error: string): UserError {
  return new UserError(`Google did not grant access: the authorisation answered "${error}".`, {
    hint:
      error === "access_denied"
        ? "Run vdirsyncer again and choose Allow on Google's consent page (the app may show as unverified: choose Continue)."
        : "Check client_id and the OAuth consent screen in the Google Cloud console, then run vdirsyncer again.",
  });
}

/** Starts the one-shot loopback listener on 127.0.0.1 and a random port. */
async function listenLoopback(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return server;
}

/** Waits for the browser's redirect to the loopback listener. */
function waitForRedirect(server: Server, state: string, log: Logger): Promise<string> {
  return new Promise((resolve, reject) => {
    server.on("request", (req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const reply = (status: number, text: string) => {
        res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" });
        res.end(`${text}\n`);
      };
      // Browsers also ask for /favicon.ico: only the redirect path counts.
      if (url.pathname !== "/") return reply(404, "Not found.");
      const outcome = readRedirect(url.searchParams, state);
      if (outcome === undefined) return reply(400, "This address carries no authorisation code.");
      if ("mismatch" in outcome) {
        // A stale tab from an earlier attempt, or a forged request: not ours, keep waiting.
        log.warn("Ignored a redirect whose state belongs to another authorisation attempt.");
        return reply(400, "This answer belongs to another authorisation attempt; it was ignored.");
      }
      if ("error" in outcome) {
        reply(200, `Authorisation failed (${outcome.error}). You can close this tab.`);
        return reject(refused(outcome.error));
      }
      reply(200, "Successfully obtained token. You can close this tab and return to vdirsyncer.");
      resolve(outcome.code);
    });
  });
}

/** Reads lines until one is the redirect address or a bare code; ends the wait when the input ends. */
function waitForPaste(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  state: string,
): { done: Promise<string>; close: () => void } {
  const rl = createInterface({ input, terminal: false });
  const done = new Promise<string>((resolve, reject) => {
    let finished = false;
    rl.on("line", (line) => {
      const text = line.trim();
      if (text === "" || finished) return;
      if (/^(https?:\/\/|127\.0\.0\.1|localhost|\/?\?)/i.test(text)) {
        let params: URLSearchParams;
        try {
          params = new URL(/^https?:/i.test(text) ? text : `http://${text.replace(/^\/?/, "127.0.0.1/")}`)
            .searchParams;
        } catch {
          output.write("That is not an address. Paste the whole address, or only the value after code=.\n");
          return;
        }
        const outcome = readRedirect(params, state);
        if (outcome === undefined) {
          output.write("That address carries no code. Paste the address your browser could not load.\n");
          return;
        }
        if ("mismatch" in outcome) {
          output.write("That address belongs to another authorisation attempt. Open the URL above again.\n");
          return;
        }
        finished = true;
        if ("error" in outcome) reject(refused(outcome.error));
        else resolve(outcome.code);
        return;
      }
      if (!/^[\w\-./~%]+$/.test(text)) {
        output.write(
          "That does not look like a code. Paste the whole address, or only the value after code=.\n",
        );
        return;
      }
      finished = true;
      // A code copied out of the address bar is still percent-encoded (`4%2F0A…`).
      resolve(text.includes("%") ? decodeURIComponent(text) : text);
    });
    rl.on("close", () => {
      if (finished) return;
      finished = true;
      reject(
        new UserError("The authorisation was not completed: the input ended before a code was pasted.", {
          hint: "Run vdirsyncer in a terminal for the first authorisation, or copy a token_file made elsewhere.",
        }),
      );
    });
  });
  return { done, close: () => rl.close() };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Runs the browser step of the first authorisation and returns the code.
 *
 * Listens on `127.0.0.1:<random port>` (the redirect URI, as vdirsyncer), builds the authorisation URL with PKCE
 * (S256), a random `state`, `access_type=offline` and `prompt=consent` (so a refresh token is issued every
 * time; `approval_prompt` is Google's legacy spelling), prints it, and then:
 * - with a display, opens it in a graphical browser (failure only warns) and waits for the redirect;
 * - headless, also reads the pasted redirect address (or the bare code) from `ui.input`, whichever comes first.
 *
 * MUST ignore a redirect whose `state` differs, and MUST NOT log the code.
 * @throws {UserError} the user refused access, or the input ended before a code came
 */
export async function obtainAuthorizationCode(req: AuthorizeRequest): Promise<AuthorizationCode> {
  const ui = req.ui ?? {};
  const output = ui.output ?? process.stderr;
  const headless = isHeadless(ui);
  const { verifier, challenge } = makePkce();
  const state = base64url(randomBytes(16));
  const server = await listenLoopback();
  const { port } = server.address() as { port: number };
  const redirectUri = `http://127.0.0.1:${port}`;
  const url = new URL(req.authorizeUrl);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: req.clientId,
    redirect_uri: redirectUri,
    scope: req.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
    access_type: "offline",
    prompt: "consent",
  }).toString();
  const link = url.toString();
  let paste: ReturnType<typeof waitForPaste> | undefined;
  try {
    const redirected = waitForRedirect(server, state, req.log);
    // It may fail while the browser is being started; the await below still sees the failure.
    redirected.catch(() => {});
    let code: Promise<string> = redirected;
    if (headless) {
      output.write(
        `vdirsyncer needs access to ${req.what}. Open this address in a browser on any machine, sign in and allow access:\n\n` +
          `${link}\n\n` +
          `The browser then tries to load ${redirectUri}/?… and fails unless it runs on this machine. ` +
          "Copy that whole address from its address bar (or only the value after code=) and paste it here:\n",
      );
      paste = waitForPaste(ui.input ?? process.stdin, output, state);
      // Closing the input after the loopback won ends the paste wait with a rejection nobody awaits.
      paste.done.catch(() => {});
      code = Promise.race([redirected, paste.done]);
    } else {
      output.write(`Opening ${link} ...\n`);
      try {
        await openGraphicalBrowser(link, ui.env ?? process.env, ui.platform ?? process.platform);
      } catch (error) {
        req.log.warn(`${(error as Error).message} Open the address above yourself.`);
      }
      output.write("Follow the instructions on the page.\n");
    }
    return { code: await abortable(code, req.signal), redirectUri, codeVerifier: verifier };
  } finally {
    paste?.close();
    server.close();
    server.closeAllConnections();
  }
}
