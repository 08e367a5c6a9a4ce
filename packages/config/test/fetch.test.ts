import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { UserError } from "@vdirsyncer/core";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createFetcher,
  type FetchStrategy,
  parseConfig,
  parseUserConfig,
  validateFetchStrategy,
} from "../src/index.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vdirsyncer-fetch-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function rejection(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    return err as UserError;
  }
  throw new Error("expected a rejection");
}

function storageWith(options: Record<string, unknown>) {
  return parseUserConfig(
    { general: { status_path: "/s" }, storages: { s: { type: "x", ...options } } },
    "/cfg.json",
  ).storages.get("s")!;
}

describe("ported from vdirsyncer tests/unit/cli/test_fetchparams.py", () => {
  it("test_key_conflict", () => {
    expect(() => storageWith({ foo: "bar", "foo.fetch": ["prompt", "baz"] })).toThrow(
      "Can't set foo.fetch and foo.",
    );
  });

  it("test_fuzzing: any key, any non-empty value", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string().filter((s) => !["type", "read_only", "no_delete", "instance_name"].includes(s)),
        fc.string({ minLength: 1 }),
        async (s, t) => {
          const fetcher = createFetcher({ prompt: async (text) => text });
          const raw = await fetcher.resolveRaw(storageWith({ [`${s}.fetch`]: ["prompt", t] }));
          expect(raw[s]).toBe(t);
          expect(raw[`${s}.fetch`]).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([[[]], ["lol"], [42]])("test_invalid_fetch_value %j", (value) => {
    expect(() => validateFetchStrategy("foo.fetch", value, "here")).toThrow(
      /Expected a list|Expected list of length > 0/,
    );
  });

  it("test_unknown_strategy", () => {
    expect(() => validateFetchStrategy("foo.fetch", ["unreal", "asdf"], "here")).toThrow(
      "Unknown strategy: unreal",
    );
  });

  it("test_caching: one run per strategy list and fetcher", async () => {
    const calls: string[] = [];
    const prompt = async (text: string) => {
      calls.push(text);
      return text;
    };
    const fetcher = createFetcher({ prompt });
    const s = storageWith({ "foo.fetch": ["prompt", "asdf"], "bar.fetch": ["prompt", "asdf"] });
    expect(await fetcher.resolveStorage(s)).toEqual({ foo: "asdf", bar: "asdf" });
    expect(await fetcher.resolveStorage(s)).toEqual({ foo: "asdf", bar: "asdf" });
    expect(calls).toEqual(["asdf"]);
    await createFetcher({ prompt }).resolveStorage(s);
    expect(calls).toEqual(["asdf", "asdf"]);
  });

  it("test_failed_strategy: a failure is cached and runs once", async () => {
    let calls = 0;
    const fetcher = createFetcher({
      prompt: async () => {
        calls++;
        throw new Error("interrupted");
      },
    });
    const s = storageWith({ "foo.fetch": ["prompt", "asdf"] });
    for (let i = 0; i < 2; i++) await expect(fetcher.resolveStorage(s)).rejects.toThrow("interrupted");
    expect(calls).toBe(1);
  });

  it("test_empty_value", async () => {
    const fetcher = createFetcher({ prompt: async () => "" });
    const err = await rejection(fetcher.resolveStorage(storageWith({ "foo.fetch": ["prompt", ""] })));
    expect(err.message).toBe("Empty value for foo.fetch, this most likely indicates an error.");
    expect(err.problems).toEqual(["in /cfg.json, storages.s.foo.fetch"]);
    expect(err.hint).toBeTruthy();
  });
});

describe("command and shell strategies (real processes)", () => {
  const fetch = (strategy: FetchStrategy, home = "/h") =>
    createFetcher({ home }).fetchValue("k.fetch", strategy);

  it("command: argv as given, only a leading ~ expanded (URLs and empty strings untouched)", async () => {
    expect(await fetch(["command", "echo", "~/x", "https://a//b/../c", "", "a/~"])).toBe(
      "/h/x https://a//b/../c  a/~",
    );
  });

  it("shell: sh -c script, extra elements are $0, $1, …", async () => {
    expect(await fetch(["shell", 'printf "%s-%s" "$0" "$1"', "zero", "one"])).toBe("zero-one");
  });

  it("strips \\n at both ends only (\\r and spaces kept)", async () => {
    expect(await fetch(["shell", "printf '\\n\\n x \\r\\n\\n'"])).toBe(" x \r");
  });

  it("a command that cannot start: Failed to execute command", async () => {
    const err = await rejection(fetch(["command", "/nonexistent/program", "arg"]));
    expect(err.message).toBe("Failed to execute command: /nonexistent/program arg");
    expect(err.problems[0]).toMatch(/ENOENT/);
  });

  it("a failing command: names command and exit code, never its output, and runs once", async () => {
    const marker = join(dir, "runs");
    const fetcher = createFetcher();
    const strategy: FetchStrategy = ["shell", `echo run >> ${marker}; echo $((6*7))secret; exit 3`];
    const s = storageWith({ "password.fetch": strategy });
    for (let i = 0; i < 2; i++) {
      const err = await rejection(fetcher.resolveStorage(s));
      expect(err.message).toBe(
        `The command for password.fetch failed: echo run >> ${marker}; echo $((6*7))secret; exit 3 exited with code 3.`,
      );
      // The output ("42secret") appears nowhere; the script itself is config, not a secret.
      expect(`${err.message} ${err.problems.join(" ")} ${err.hint}`).not.toContain("42secret");
      expect(err.problems).toEqual(["in /cfg.json, storages.s.password.fetch"]);
    }
    expect(readFileSync(marker, "utf8")).toBe("run\n");
  });

  it("runs strategies one at a time", async () => {
    const log = join(dir, "log");
    const script = (n: number) => `echo start${n} >> ${log}; sleep 0.05; echo end${n} >> ${log}; echo v${n}`;
    const fetcher = createFetcher();
    const values = await Promise.all(
      [1, 2, 3].map((n) => fetcher.fetchValue(`k${n}.fetch`, ["shell", script(n)])),
    );
    expect(values).toEqual(["v1", "v2", "v3"]);
    expect(readFileSync(log, "utf8")).toBe("start1\nend1\nstart2\nend2\nstart3\nend3\n");
  });

  it("logs what it fetches, never the value", async () => {
    const lines: string[] = [];
    const fetcher = createFetcher({ log: { debug: (m) => lines.push(m) } });
    await fetcher.fetchValue("password.fetch", ["command", "echo", "s3cret"]);
    await fetcher.fetchValue("password.fetch", ["command", "echo", "s3cret"]);
    expect(lines).toEqual([
      "Fetching value for password.fetch with command strategy.",
      "Found cached value for password.fetch.",
    ]);
  });
});

describe("ported from vdirsyncer tests/system/cli/test_fetchparams.py", () => {
  it("type.fetch via shell, fileext.fetch via command and prompt; only the storage asked for is fetched", async () => {
    const marker = join(dir, "foo-fetched");
    const c = parseConfig(
      `[general]
status_path = "${dir}/status/"

[pair foobar]
a = "foo"
b = "bar"
collections = ["a", "b", "c"]

[storage foo]
type.fetch = ["shell", "touch ${marker}; echo filesystem"]
path = "${dir}/foo/"
fileext.fetch = ["command", "echo", ".txt"]

[storage bar]
type = "filesystem"
path = "${dir}/bar/"
fileext.fetch = ["prompt", "Fileext for bar"]
`,
      join(dir, "config"),
    );
    const prompts: string[] = [];
    const fetcher = createFetcher({
      prompt: async (text) => {
        prompts.push(text);
        return ".asdf";
      },
    });
    const bar = c.storages.get("bar")!;
    expect(await fetcher.resolveStorage(bar)).toEqual({ path: `${dir}/bar/`, fileext: ".asdf" });
    expect(existsSync(marker)).toBe(false);

    const foo = c.storages.get("foo")!;
    expect(foo.type).toBe("");
    expect(await fetcher.resolveStorage(foo)).toEqual({
      path: `${dir}/foo/`,
      fileext: ".txt",
      type: "filesystem",
    });
    expect(existsSync(marker)).toBe(true);
    expect(await fetcher.resolveRaw(foo)).toEqual({
      path: `${dir}/foo/`,
      instance_name: "foo",
      type: "filesystem",
      fileext: ".txt",
    });
    expect(Object.keys(await fetcher.resolveRaw(bar))).toEqual(["type", "path", "instance_name", "fileext"]);
    expect(prompts).toEqual(["Fileext for bar"]);
  });
});

describe("the default prompt", () => {
  const script = `
    import { createFetcher } from "${join(import.meta.dirname, "../src/index.ts")}";
    const f = createFetcher();
    try {
      console.log(JSON.stringify(await f.fetchValue("a.fetch", ["prompt", "Fileext for bar"])));
      console.log(JSON.stringify(await f.fetchValue("b.fetch", ["prompt", "Second"])));
      console.log(JSON.stringify(await f.fetchValue("c.fetch", ["prompt", "Third"])));
    } catch (err) {
      console.log("error: " + err.message);
    }
  `;
  const run = (input: string) =>
    spawnSync(
      process.execPath,
      [
        "--experimental-transform-types",
        "--no-warnings",
        "--conditions=source",
        "--input-type=module",
        "-e",
        script,
      ],
      { input, encoding: "utf8", timeout: 20_000 },
    );

  it("reads lines from a piped stdin, asks again on an empty line, and aborts at the end of input", () => {
    const r = run(".asdf\n\nsecond\n");
    expect(r.stdout).toBe('".asdf"\n"second"\nerror: Aborted at the prompt "Third".\n');
    expect(r.stderr).toBe("Fileext for bar: Second: Second: Third: ");
  });

  it("lets the process exit once the values are read", () => {
    // A still-open stdin must not keep the process alive; spawnSync's timeout would fail this test.
    const r = run("a\nb\nc\n");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('"a"\n"b"\n"c"\n');
  });
});

it("execFileSync sanity: sh is available for the shell strategy", () => {
  expect(execFileSync("/bin/sh", ["-c", "echo ok"]).toString()).toBe("ok\n");
});
