/**
 * Opening the authorisation page in a graphical browser. A text browser (lynx, w3m…) would take over the
 * terminal vdirsyncer runs in, so it is never used (vdirsyncer excludes them too).
 */
import { spawn } from "node:child_process";

/** Browsers that run in the terminal; removed from `$BROWSER` before `xdg-open` reads it. */
const TEXT_BROWSERS = new Set([
  "www-browser",
  "links",
  "links2",
  "elinks",
  "lynx",
  "w3m",
  "browsh",
  "carbonyl",
]);

/** True when a graphical session is reachable from this process (an X or Wayland display, or macOS). */
export function hasGraphicalDisplay(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (platform === "darwin") return !env.SSH_CONNECTION && !env.SSH_TTY;
  if (platform === "win32") return true;
  return Boolean(env.DISPLAY) || Boolean(env.WAYLAND_DISPLAY);
}

function withoutTextBrowsers(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const browser = env.BROWSER;
  if (browser === undefined) return env;
  const kept = browser
    .split(":")
    .filter((b) => !TEXT_BROWSERS.has((b.trim().split(/\s+/)[0] ?? "").split("/").at(-1) ?? ""));
  const next = { ...env };
  if (kept.length > 0) next.BROWSER = kept.join(":");
  else delete next.BROWSER;
  return next;
}

/**
 * Opens `url` in a graphical browser: `xdg-open` on Linux and BSD, `open` on macOS, `start` on Windows.
 *
 * MUST NOT start anything without a graphical display, and MUST NOT give the child the terminal (so that a
 * text browser chosen by `xdg-open` cannot take it over). Resolves once the opener exited successfully or has
 * run for a few seconds (some openers stay until the browser closes).
 * @throws {Error} no display, the opener is missing, or it exited with an error status
 */
export function openGraphicalBrowser(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Promise<void> {
  if (!hasGraphicalDisplay(env, platform)) {
    return Promise.reject(new Error("There is no graphical display to open a browser on."));
  }
  const [command, args] =
    platform === "darwin"
      ? ["open", [url]]
      : platform === "win32"
        ? ["cmd", ["/c", "start", '""', url.replaceAll("&", "^&")]]
        : ["xdg-open", [url]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args as string[], {
      env: withoutTextBrowsers(env),
      stdio: "ignore",
      detached: true,
    });
    const timer = setTimeout(() => {
      child.unref();
      resolve();
    }, 3000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`Could not start ${command}: ${error.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with status ${code}.`));
    });
  });
}
