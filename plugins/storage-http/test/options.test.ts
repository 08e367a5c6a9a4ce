/** The options schema: vdirsyncer's messages (test_http.py's readonly and prepare_auth cases) and webcal URLs. */
import { describe, expect, it } from "vitest";
import { HttpOptions, normalizeFeedUrl, READ_ONLY_ONLY } from "../src/index.ts";
import { optionProblems } from "./helpers.ts";

const url = "http://example.com/";

describe("read_only", () => {
  it("false is refused with vdirsyncer's message", async () => {
    expect(await optionProblems({ url, read_only: false })).toEqual([READ_ONLY_ONLY]);
    expect(READ_ONLY_ONLY).toBe("This storage can only be read-only.");
  });

  it("true, null and absent are accepted", async () => {
    for (const read_only of [true, null, undefined])
      expect(await optionProblems({ url, read_only })).toEqual([]);
  });
});

describe("authentication settings (vdirsyncer's prepare_auth)", () => {
  it("no credentials, basic and digest are accepted", async () => {
    expect(await optionProblems({ url, username: "", password: "" })).toEqual([]);
    expect(await optionProblems({ url, username: "user", password: "pwd" })).toEqual([]);
    expect(await optionProblems({ url, username: "user", password: "pwd", auth: "basic" })).toEqual([]);
    expect(await optionProblems({ url, username: "user", password: "pwd", auth: "digest" })).toEqual([]);
  });

  it("a method without both credentials asks for them", async () => {
    expect(await optionProblems({ url, username: "", password: "pwd", auth: "basic" })).toEqual([
      "You need to specify username and password for basic authentication.",
    ]);
  });

  it("an unknown method is named", async () => {
    expect(await optionProblems({ url, username: "user", password: "pwd", auth: "ladida" })).toEqual([
      "Unknown authentication method: ladida",
    ]);
  });

  it("guess is not supported", async () => {
    const [problem] = await optionProblems({ url, username: "usr", password: "pwd", auth: "guess" });
    expect(problem?.toLowerCase()).toContain("not supported");
  });

  it("verify = false is refused (test_verify_false_disallowed)", async () => {
    const [problem] = await optionProblems({ url, verify: false });
    expect(problem?.toLowerCase()).toContain("must be a path to a pem-file.");
  });
});

describe("other keys", () => {
  it("url is required and unknown keys are named", async () => {
    const result = await HttpOptions["~standard"].validate({});
    expect(result.issues?.map((i) => i.path?.map(String))).toEqual([["url"]]);
    expect(await optionProblems({ url, fileext: ".ics" })).toEqual([
      "http storage doesn't take the parameters: fileext",
    ]);
  });

  it("multiget keys of the DAV storages are not http options", async () => {
    expect(await optionProblems({ url, multiget_batch_size: 10 })).toEqual([
      "http storage doesn't take the parameters: multiget_batch_size",
    ]);
  });

  it("webcal:// and webcals:// become https://, other schemes stay", async () => {
    const result = await HttpOptions["~standard"].validate({ url: "webcal://calendar.example.org/x.ics" });
    expect(result.issues).toBeUndefined();
    expect((result as { value: HttpOptions }).value.url).toBe("https://calendar.example.org/x.ics");
    expect(normalizeFeedUrl("WEBCALS://h/p")).toBe("https://h/p");
    expect(normalizeFeedUrl("http://h/webcal://x")).toBe("http://h/webcal://x");
  });
});
