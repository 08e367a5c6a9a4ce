import { describe, expect, it } from "vitest";
import filesystem from "../src/index.ts";

async function validate(raw: unknown) {
  return filesystem.options["~standard"].validate(raw);
}

describe("options", () => {
  it("fills the defaults and keeps the path as written (the storage expands it where it uses it)", async () => {
    const result = await validate({ path: "~/cal//work/", fileext: ".ics" });
    expect(result.issues).toBeUndefined();
    expect("value" in result && result.value).toEqual({
      path: "~/cal//work/",
      fileext: ".ics",
      encoding: "utf-8",
      post_hook: null,
      pre_deletion_hook: null,
      fileignoreext: ".tmp",
    });
  });

  it("takes every option", async () => {
    const raw = {
      path: "/data/c",
      fileext: "",
      encoding: "latin-1",
      post_hook: "/bin/true",
      pre_deletion_hook: "/bin/false",
      fileignoreext: "~",
    };
    const result = await validate(raw);
    expect("value" in result && result.value).toEqual(raw);
  });

  it("rejects unknown keys with vdirsyncer's message", async () => {
    const result = await validate({ path: "/x", fileext: ".ics", colour: "red", foo: 1 });
    expect(result.issues?.map((i) => i.message)).toEqual([
      "filesystem storage doesn't take the parameters: colour, foo",
    ]);
  });

  it("requires path and fileext", async () => {
    const result = await validate({});
    expect(result.issues?.map((i) => i.path?.join("."))).toEqual(["path", "fileext"]);
  });

  it("rejects an unknown encoding by name", async () => {
    const result = await validate({ path: "/x", fileext: ".ics", encoding: "klingon" });
    expect(result.issues?.map((i) => `${i.path?.join(".")}: ${i.message}`)).toEqual([
      'encoding: Unknown encoding "klingon".',
    ]);
  });
});
