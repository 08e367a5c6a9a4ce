/**
 * Shared test plumbing: a stand-in in front of the Radicale the global setup started, a context whose log lines are
 * kept (to check that no secret reaches them), and token files in fresh temp folders.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger, StorageContext } from "@vdirsyncer/core";
import { freshDir } from "@vdirsyncer/storage-test-suite";
import { testServers } from "@vdirsyncer/test-servers/vitest";
import { GoogleStandIn } from "./stand-in.ts";

/** Starts a stand-in in front of this project's Radicale. */
export function startStandIn(): Promise<GoogleStandIn> {
  const { radicale } = testServers();
  return GoogleStandIn.start({
    url: radicale.url,
    ...(radicale.username ? { username: radicale.username } : {}),
    ...(radicale.password ? { password: radicale.password } : {}),
  });
}

/** A storage context whose log lines are collected in `lines`. */
export function recordingContext(instance = "google_test"): StorageContext & { lines: string[] } {
  const lines: string[] = [];
  const log: Logger = {
    debug: (m) => lines.push(`debug: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
  return { instance, log, stats: { add() {} }, signal: new AbortController().signal, lines };
}

/** A token file path in a fresh folder (the file itself does not exist yet). */
export async function freshTokenPath(): Promise<string> {
  return join(await freshDir(), "sub", "dir", "token.json");
}

/** A token file that already holds a token issued by the stand-in (a user who authorised earlier). */
export async function authorisedTokenFile(standIn: GoogleStandIn, scope: string): Promise<string> {
  const path = join(await freshDir(), "token.json");
  await writeFile(path, JSON.stringify(standIn.issueToken(scope)), { mode: 0o600 });
  return path;
}
