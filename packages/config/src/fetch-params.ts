/** `<key>.fetch` values, checked when the file is read (the fetching itself is in fetch.ts). */
import type { FetchStrategy } from "./model.ts";
import { fail, jsonTypeName } from "./problems.ts";

const STRATEGIES = ["command", "shell", "prompt"];

/**
 * Checks one `<key>.fetch` value and returns it typed.
 *
 * @throws {UserError} `Invalid value for <key>: Expected a list, found …`, `Expected list of length > 0.` or
 *   `Unknown strategy: <s>`, with `where` as the problem line
 */
export function validateFetchStrategy(key: string, value: unknown, where: string): FetchStrategy {
  const hint = `Write ${key} = ["command", "program", "arg", …], ["shell", "script"] or ["prompt", "text"].`;
  if (!Array.isArray(value)) {
    // The type only, never the value: it may be the secret itself.
    throw fail(`Invalid value for ${key}: Expected a list, found ${jsonTypeName(value)}.`, where, hint);
  }
  if (value.length === 0) throw fail("Expected list of length > 0.", where, hint);
  const strategy = value[0];
  if (typeof strategy !== "string" || !STRATEGIES.includes(strategy)) {
    throw fail(
      `Unknown strategy: ${typeof strategy === "string" ? strategy : JSON.stringify(strategy)}`,
      where,
      hint,
    );
  }
  if (!value.every((x) => typeof x === "string")) {
    throw fail(`Invalid value for ${key}: Every element must be a string.`, where, hint);
  }
  if (strategy === "prompt" ? value.length !== 2 : value.length < 2) {
    const what =
      strategy === "prompt"
        ? "takes exactly one prompt text"
        : `needs the ${strategy === "shell" ? "script" : "program"}`;
    throw fail(`Invalid value for ${key}: "${strategy}" ${what}.`, where, hint);
  }
  return value as unknown as FetchStrategy;
}
