// The capabilities are checked by the types: these lines must fail to compile (`tsc` runs over the tests).
import { describe, expect, it } from "vitest";
import { type Capabilities, defineStorage, type ItemRef } from "./all.ts";

const none: Capabilities = {
  readOnly: false,
  discover: false,
  createCollection: false,
  metadata: [],
  ctag: false,
  syncToken: false,
  batchGet: false,
  watch: false,
};
const options = {
  "~standard": { version: 1 as const, vendor: "t", validate: (v: unknown) => ({ value: v }) },
};
const writable = {
  list: async function* (): AsyncGenerator<ItemRef> {},
  get: async () => {
    throw new Error("unused");
  },
  upload: async () => ({ href: "", etag: undefined }),
  update: async () => ({ etag: undefined }),
  delete: async () => {},
};

describe("defineStorage types", () => {
  it("refuses batchGet: true without getMany, and getMany with batchGet: false", () => {
    const build = () => {
      defineStorage({
        type: "nogetmany",
        summary: "",
        itemKinds: ["calendar"],
        capabilities: { ...none, batchGet: true } as const,
        options,
        // @ts-expect-error batchGet: true requires getMany()
        create: () => ({ open: () => writable }),
      });
      defineStorage({
        type: "extra",
        summary: "",
        itemKinds: ["calendar"],
        capabilities: { ...none, batchGet: false } as const,
        options,
        // @ts-expect-error batchGet: false forbids getMany()
        create: () => ({ open: () => ({ ...writable, getMany: async function* () {} }) }),
      });
      defineStorage({
        type: "nodiscover",
        summary: "",
        itemKinds: ["calendar"],
        capabilities: { ...none, discover: true } as const,
        options,
        // @ts-expect-error discover: true requires discover()
        create: () => ({ open: () => writable }),
      });
    };
    expect(build).not.toThrow();
  });

  it("refuses a concurrency that is not a whole number of at least 1, at run time", () => {
    const define = (concurrency: number) =>
      defineStorage({
        type: "conc",
        summary: "",
        itemKinds: ["calendar"],
        capabilities: { ...none, concurrency },
        options,
        create: () => ({ open: () => writable }),
      });
    expect(() => define(0)).toThrow(/concurrency 0/);
    expect(() => define(1.5)).toThrow(TypeError);
    expect(define(4).capabilities.concurrency).toBe(4);
    expect(define(4).apiVersion).toBe(2);
  });
});
