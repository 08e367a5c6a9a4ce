/**
 * Fetch params (`<key>.fetch`, spec/config.md §8): values such as passwords fetched at run time from a
 * command, a shell script or a hidden prompt.
 */
import { spawn } from "node:child_process";
import { type Logger, UserError } from "@vdirsyncer/core";
import { expandUser } from "@vdirsyncer/core/compat";
import type { ConfigSource, FetchStrategy, JsonValue, StorageSection } from "./model.ts";
import { setOwn } from "./own.ts";
import { describePlace } from "./problems.ts";

/** Options of {@link createFetcher}. */
export interface FetcherOptions {
  /**
   * Asks for a value with hidden input; resolves to what was typed.
   * @default {@link promptHidden}
   */
  prompt?: (text: string) => Promise<string>;
  /** Gets a debug line per fetch; never a fetched value. */
  log?: Pick<Logger, "debug">;
  /** The home directory for `~` in command arguments. @default `$HOME` */
  home?: string;
}

/** Fetches `<key>.fetch` values, each strategy at most once per fetcher. */
export interface Fetcher {
  /**
   * Runs one strategy (or returns its cached outcome) and returns the value.
   *
   * MUST run each distinct strategy list once: a later call with the same list gets the same value, or the same
   * failure. Strategies run one at a time.
   * @param key - the `.fetch` key, for messages (`password.fetch`)
   * @throws {UserError} the command failed to start or exited non-zero, the prompt was aborted, or the value is
   *   empty; messages never contain the value or the command's output
   */
  fetchValue(key: string, strategy: FetchStrategy, source?: ConfigSource): Promise<string>;
  /**
   * A storage's plugin options with every fetched value filled in (`password.fetch` → `password`).
   *
   * A fetched `type` (`type.fetch`) appears as `type`; other common keys stay out, as in
   * {@link StorageSection.options}. Only this storage's fetch params run.
   */
  resolveStorage(section: StorageSection): Promise<Record<string, JsonValue>>;
  /**
   * The section's `raw` keys with each `k.fetch` replaced by `k` = the fetched value (moved to the end, as
   * vdirsyncer does), `instance_name` included: what the discovery cache key hashes.
   */
  resolveRaw(section: StorageSection): Promise<Record<string, JsonValue>>;
}

function placeOf(source: ConfigSource | undefined, key: string): string {
  if (source === undefined) return "in the config";
  const format = source.lines === undefined ? "cosmiconfig" : "ini";
  return describePlace({ file: source.file, format }, source.section, key, source.lines?.[key]);
}

interface Outcome {
  ok: boolean;
  value?: string;
  error?: unknown;
}

/**
 * Creates a fetcher with its own cache (one per process run, as vdirsyncer's).
 *
 * Commands run with stdin and stderr inherited (so `pass` or `gpg` can ask for a passphrase) and stdout
 * captured; `~` at the start of an argument is expanded, nothing else is touched (vdirsyncer's path
 * normalisation of URLs and empty strings is not copied). The value is stdout with `\n` stripped at both ends
 * only.
 */
export function createFetcher(options: FetcherOptions = {}): Fetcher {
  const cache = new Map<string, Promise<Outcome>>();
  let queue: Promise<unknown> = Promise.resolve();
  const log = options.log;
  const prompt = options.prompt ?? promptHidden;

  const run = async (key: string, strategy: FetchStrategy, where: string): Promise<string> => {
    const [kind, ...args] = strategy;
    if (kind === "prompt") return prompt(args[0] ?? "");
    const argv = args.map((a) => expandUser(a, { home: options.home }));
    const [file, ...rest] = kind === "shell" ? ["/bin/sh", "-c", ...argv] : argv;
    return runCommand(key, file!, rest, kind === "shell" ? argv[0]! : argv.join(" "), where);
  };

  const fetchValue = async (key: string, strategy: FetchStrategy, source?: ConfigSource): Promise<string> => {
    const where = placeOf(source, key);
    const id = JSON.stringify(strategy);
    let outcome = cache.get(id);
    if (outcome === undefined) {
      log?.debug(`Fetching value for ${key} with ${strategy[0]} strategy.`);
      // One strategy at a time: two prompts must not share the terminal, and a password manager may prompt too.
      outcome = queue.then(() =>
        run(key, strategy, where).then(
          (value): Outcome => ({ ok: true, value }),
          (error: unknown): Outcome => ({ ok: false, error }),
        ),
      );
      queue = outcome;
      cache.set(id, outcome);
    } else {
      log?.debug(`Found cached value for ${key}.`);
    }
    const result = await outcome;
    if (!result.ok) throw result.error;
    if (!result.value) {
      throw new UserError(`Empty value for ${key}, this most likely indicates an error.`, {
        problems: [where],
        hint: "Make the command print the value on standard output (run it by hand to check).",
      });
    }
    return result.value;
  };

  const fetchAll = async (section: StorageSection): Promise<Map<string, string>> => {
    const values = new Map<string, string>();
    for (const [key, strategy] of Object.entries(section.fetch)) {
      values.set(key, await fetchValue(`${key}.fetch`, strategy, section.source));
    }
    return values;
  };

  return {
    fetchValue,
    async resolveStorage(section) {
      const out: Record<string, JsonValue> = { ...section.options };
      for (const [key, value] of await fetchAll(section)) {
        if (key === "read_only" || key === "no_delete" || key === "instance_name") continue;
        setOwn(out, key, value);
      }
      return out;
    },
    async resolveRaw(section) {
      const values = await fetchAll(section);
      const out: Record<string, JsonValue> = { ...section.raw };
      for (const [key, value] of values) {
        delete out[`${key}.fetch`];
        // Deleted first, so a key is appended at the end as in vdirsyncer's dict.
        delete out[key];
        setOwn(out, key, value);
      }
      return out;
    },
  };
}

function runCommand(
  key: string,
  file: string,
  args: string[],
  shown: string,
  where: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let child: ReturnType<typeof spawn>;
    const failedToStart = (err: Error) =>
      new UserError(`Failed to execute command: ${shown}`, {
        problems: [err.message, where],
        hint: "Check that the program exists and is on your PATH.",
        cause: err,
      });
    try {
      child = spawn(file, args, { stdio: ["inherit", "pipe", "inherit"] });
    } catch (err) {
      reject(failedToStart(err as Error));
      return;
    }
    child.stdout!.on("data", (c: Buffer) => chunks.push(c));
    child.on("error", (err) => reject(failedToStart(err)));
    child.on("close", (code, signal) => {
      if (code === 0) {
        resolve(
          Buffer.concat(chunks)
            .toString("utf8")
            .replace(/^\n+|\n+$/g, ""),
        );
        return;
      }
      // The output is not shown: it may hold the secret, or part of it.
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(
        new UserError(`The command for ${key} failed: ${shown} ${how}.`, {
          problems: [where],
          hint: "Run the command by hand to see why it fails.",
        }),
      );
    });
  });
}

// Lines typed into a piped (non-terminal) stdin, shared by every prompt of the process.
let stdinText = "";
let stdinEnded = false;
let stdinListening = false;
const stdinWaiters: (() => void)[] = [];

function wakeStdinWaiters(): void {
  for (const w of stdinWaiters.splice(0)) w();
}

async function readStdinLine(): Promise<string | undefined> {
  if (!stdinListening) {
    stdinListening = true;
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      stdinText += chunk;
      wakeStdinWaiters();
    });
    process.stdin.on("end", () => {
      stdinEnded = true;
      wakeStdinWaiters();
    });
  }
  for (;;) {
    const nl = stdinText.indexOf("\n");
    if (nl >= 0) {
      const line = stdinText.slice(0, nl);
      stdinText = stdinText.slice(nl + 1);
      // Stop reading so that a waiting stdin does not keep the process alive.
      process.stdin.pause();
      return line.replace(/\r$/, "");
    }
    if (stdinEnded) {
      const rest = stdinText;
      stdinText = "";
      return rest === "" ? undefined : rest;
    }
    process.stdin.resume();
    await new Promise<void>((r) => stdinWaiters.push(r));
  }
}

function readHiddenFromTerminal(): Promise<string | undefined> {
  const input = process.stdin;
  return new Promise((resolve) => {
    let typed = "";
    const finish = (value: string | undefined) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write("\n");
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n") return finish(typed);
        if (ch === "\u0003" || (ch === "\u0004" && typed === "")) return finish(undefined);
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on("data", onData);
  });
}

/**
 * The default prompt: writes `<text>: ` to stderr and reads a line without echo when stdin is a terminal, or
 * the next line of stdin when it is not (scripts, tests). An empty answer asks again, as click's prompt does.
 *
 * @throws {UserError} the input ended or Ctrl-C/Ctrl-D was pressed before a value was entered
 */
export async function promptHidden(text: string): Promise<string> {
  for (;;) {
    process.stderr.write(`${text}: `);
    const line = process.stdin.isTTY ? await readHiddenFromTerminal() : await readStdinLine();
    if (line === undefined) {
      throw new UserError(`Aborted at the prompt "${text}".`, {
        hint: "Enter the value when asked, or set it in the config.",
      });
    }
    if (line !== "") return line;
  }
}
