/** The metadata group, when `capabilities.metadata` is not empty: round trips and normalisation of values. */
import { randomUUID } from "node:crypto";
import { META_KEYS, type MetaKey } from "@vdirsyncer/core";
import { expect } from "vitest";
import { expectError, flush } from "../expect.ts";
import type { Suite } from "../harness.ts";

export function metadataGroup<O>(suite: Suite<O>): void {
  const { caps, test } = suite;
  const setup = () => suite.setup();
  const group = suite.group;
  if (caps.metadata.length > 0) {
    const supported = caps.metadata;
    const pick = (preferred: MetaKey): MetaKey => (supported.includes(preferred) ? preferred : supported[0]!);
    group("metadata", () => {
      test("getMeta() of a fresh collection returns undefined", async () => {
        const { col } = await setup();
        for (const key of supported) expect(await col.getMeta!(key), key).toBeUndefined();
      });

      test("setMeta() round-trips a color, and setMeta(undefined) removes it", async () => {
        const { col } = await setup();
        const key = pick("color");
        await col.setMeta!(key, undefined);
        await flush(col);
        expect(await col.getMeta!(key)).toBeUndefined();
        await col.setMeta!(key, "#ff0000");
        await flush(col);
        expect(await col.getMeta!(key)).toBe("#ff0000");
        await col.setMeta!(key, undefined);
        await flush(col);
        expect(await col.getMeta!(key)).toBeUndefined();
      });

      test('setMeta() round-trips the non-ASCII displayname "hello wörld"', async () => {
        const { col } = await setup();
        const key = pick("displayname");
        await col.setMeta!(key, "hello wörld");
        await flush(col);
        expect(await col.getMeta!(key)).toBe("hello wörld");
      });

      test("getMeta() returns what setMeta() wrote, normalised", async () => {
        const { col } = await setup();
        const key = pick("displayname");
        const values = [
          undefined,
          "",
          "Hello there!",
          "Österreich",
          "中国",
          "한글",
          randomUUID(),
          "فلسطين",
          "  padded  ",
        ];
        for (const value of values) {
          await col.setMeta!(key, value);
          await flush(col);
          const got = await col.getMeta!(key);
          // An empty value and an absent one are the same to metasync; storages may return either.
          const want = value?.trim();
          if (want === "" || want === undefined) expect(got ?? "", JSON.stringify(value)).toBe(want ?? "");
          else expect(got, JSON.stringify(value)).toBe(want);
        }
      });

      const unsupported = META_KEYS.filter((k) => !supported.includes(k));
      if (unsupported.length > 0) {
        test("getMeta() and setMeta() of an undeclared key throw UnsupportedError", async () => {
          const { col } = await setup();
          for (const key of unsupported) {
            await expectError(col.getMeta!(key), "UNSUPPORTED", `getMeta(${key})`);
            await expectError(col.setMeta!(key, "x"), "UNSUPPORTED", `setMeta(${key})`);
          }
        });
      }
    });
  }
}
