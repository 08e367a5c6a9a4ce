import { describe, expect, it } from "vitest";
import { createMemoryStatus, InvalidResponseError, type WritableCollection } from "./all.ts";
import { event, memorySide, sync } from "./sync-helpers.ts";

describe("sync: a failed write names where the item comes from", () => {
  it("an upload the other side refuses carries the source storage and href", async () => {
    const a = memorySide(".ics");
    const b = memorySide(".ics");
    await a.collection.upload(event("refused"));
    const refusing: WritableCollection = Object.create(b.collection);
    refusing.upload = async () => {
      throw new InvalidResponseError("PUT https://dav.example/cal/refused.ics: 400 Bad Request", {
        hint: "The server refused the item.",
      });
    };
    const report = await sync(a.collection, refusing, createMemoryStatus());
    expect(report.reported).toHaveLength(1);
    expect(report.reported[0]!.context).toMatchObject({
      storage: "b",
      operation: "upload",
      source: "a refused.ics",
    });
  });
});
