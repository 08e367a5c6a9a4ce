import { PassThrough } from "node:stream";
import { InvalidResponseError } from "@vdirsyncer/core";
import { describe, expect, it } from "vitest";
import { reportError } from "../src/errors.ts";
import { Output } from "../src/output.ts";

describe("a write the other side refused", () => {
  it("names the item's own copy (the user's local file) after the server's answer", () => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (c) => (text += c.toString()));
    const err = new InvalidResponseError("PUT https://dav.example/cal/x.ics: 400 Bad Request (no UID)", {
      hint: "The server refused the item.",
    }).withContext({ storage: "remote/work", source: "local/work x.ics" });
    reportError(new Output(stream, "INFO"), err, "pair/work");
    expect(text).toContain("error: pair/work: PUT https://dav.example/cal/x.ics: 400 Bad Request (no UID)");
    expect(text).toContain("error: The item comes from local/work x.ics.");
    expect(text).not.toContain("vdirsyncer doesn't understand");
  });
});
