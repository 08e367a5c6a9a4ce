import { describe, expect, it } from "vitest";
import { carddavCollectionOptions } from "../src/carddav.ts";
import { CarddavOptions } from "../src/options.ts";

type Result = { value?: CarddavOptions; issues?: readonly { message: string; path?: readonly unknown[] }[] };

async function validate(raw: Record<string, unknown>): Promise<Result> {
  return (await CarddavOptions["~standard"].validate(raw)) as Result;
}

const URL = "https://dav.example.com/";

describe("carddav options", () => {
  it("accepts the session keys and use_vcard_4, which defaults to false", async () => {
    const plain = await validate({ url: URL, username: "bob", password: "pw", auth: "basic" });
    expect(plain.issues).toBeUndefined();
    expect(plain.value?.use_vcard_4).toBe(false);
    const v4 = await validate({ url: URL, use_vcard_4: true, multiget_batch_size: 20 });
    expect(carddavCollectionOptions(v4.value!)).toEqual({
      kind: "addressbook",
      fileext: ".vcf",
      useVcard4: true,
      multigetBatchSize: 20,
    });
  });

  it("refuses caldav-only keys, naming them", async () => {
    const r = await validate({
      url: URL,
      start_date: "datetime.now()",
      end_date: "datetime.now()",
      item_types: [],
    });
    expect(r.issues?.map((i) => i.message)).toEqual([
      "carddav storage doesn't take the parameters: start_date, end_date, item_types",
    ]);
  });

  it("checks the session keys with vdirsyncer's messages", async () => {
    const r = await validate({ url: URL, auth: "digest", verify: false });
    expect(r.issues?.map((i) => i.message)).toEqual([
      "You need to specify username and password for digest authentication.",
      "Invalid value for verify (False), must be a path to a PEM-file.",
    ]);
  });

  it("refuses a use_vcard_4 that is not a boolean", async () => {
    const r = await validate({ url: URL, use_vcard_4: "yes" });
    expect(r.issues?.map((i) => i.path)).toEqual([["use_vcard_4"]]);
  });

  it("refuses a url with a user name and password in it, without printing them", async () => {
    const r = await validate({ url: "https://alice:Secr3t@dav.example.com/dav/" });
    expect(r.issues?.map((i) => i.message)).toEqual([
      'The url https://dav.example.com/dav/ is written with a user name or password in it ("user:password@host"), ' +
        "which is never sent: remove them from `url` and set the `username` and `password` options instead.",
    ]);
    expect(JSON.stringify(r.issues)).not.toMatch(/Secr3t|alice/);
  });
});
