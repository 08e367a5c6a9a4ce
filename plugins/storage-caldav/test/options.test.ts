import { describe, expect, it } from "vitest";
import { caldavCollectionOptions } from "../src/caldav.ts";
import { CaldavOptions } from "../src/options.ts";

type Result = { value?: CaldavOptions; issues?: readonly { message: string; path?: readonly unknown[] }[] };

async function validate(raw: Record<string, unknown>): Promise<Result> {
  return (await CaldavOptions["~standard"].validate(raw)) as Result;
}

async function messages(raw: Record<string, unknown>): Promise<string[]> {
  const result = await validate(raw);
  return (result.issues ?? []).map((i) => i.message);
}

const URL = "https://dav.example.com/";

describe("caldav options", () => {
  it("accepts a minimal and a full configuration", async () => {
    expect((await validate({ url: URL })).issues).toBeUndefined();
    const full = await validate({
      url: URL,
      username: "bob",
      password: "secret",
      auth: "digest",
      verify: "~/ca.pem",
      verify_fingerprint:
        "94:FD:7A:CB:50:75:A4:69:82:0A:F8:23:DF:07:FC:69:3E:1D:81:7B:3E:41:47:0B:73:97:F2:1F:AD:0B:DE:7A",
      auth_cert: ["~/cert.pem", "~/key.pem"],
      useragent: "me/1.0",
      start_date: "datetime.now() - timedelta(days=365)",
      end_date: "datetime.now() + timedelta(days=365)",
      item_types: ["VEVENT", "VTODO"],
      timeout: 30,
      multiget_batch_size: 25,
      multiget_concurrency: 4,
    });
    expect(full.issues).toBeUndefined();
    expect(full.value?.item_types).toEqual(["VEVENT", "VTODO"]);
  });

  it("accepts vdirsyncer's null values and an empty username", async () => {
    const r = await validate({
      url: URL,
      username: "",
      password: null,
      auth: null,
      verify: null,
      start_date: null,
      end_date: null,
    });
    expect(r.issues).toBeUndefined();
  });

  it.each([
    [
      { auth: "guess", username: "u", password: "p" },
      /^'Guess' authentication is not supported in this version of vdirsyncer\. /,
    ],
    [{ auth: "ntlm", username: "u", password: "p" }, /^Unknown authentication method: ntlm$/],
    [{ auth: "basic" }, /^You need to specify username and password for basic authentication\.$/],
    [
      { auth: "digest", username: "u" },
      /^You need to specify username and password for digest authentication\.$/,
    ],
    [{ auth: "guess" }, /^You need to specify username and password for guess authentication\.$/],
    [{ verify: true }, /^Invalid value for verify \(True\), must be a path to a PEM-file\.$/],
    [{ verify: false }, /^Invalid value for verify \(False\), must be a path to a PEM-file\.$/],
    [{ verify_fingerprint: 42 }, /^Invalid value for verify_fingerprint \(42\), must be a string\.$/],
    [
      { verify_fingerprint: "94:FD:7A:CB:50:75:A4:69:82:0A:F8:23:DF:07:FC:69:3E:1D:81:7B" },
      /must be the SHA-256 fingerprint/,
    ],
    [{ auth_cert: ["only-one.pem"] }, /^Invalid value for auth_cert \(\['only-one.pem'\]\)/],
    [{ start_date: "datetime.now()" }, /^If start_date is given, end_date has to be given too\.$/],
    [{ end_date: "datetime.now()" }, /^If start_date is given, end_date has to be given too\.$/],
    [
      { start_date: "datetime.now()", end_date: "__import__('os')" },
      /^Invalid end_date "__import__\('os'\)": unknown function/,
    ],
    [{ start_date: 5, end_date: 6 }, /must be strings/],
    [{ item_types: "VEVENT" }, /^item_types must be a list\.$/],
    [{ item_types: ["VEVENT", 3] }, /^item_types must be a list of component names/],
    [{ item_types: ["<x/>"] }, /^item_types must be a list of component names/],
  ])("refuses %j with vdirsyncer's message", async (extra, message) => {
    const got = await validate({ url: URL, ...extra });
    expect(got.issues?.map((i) => i.message)).toEqual([expect.stringMatching(message)]);
    // An empty path: the CLI prints the message as it is, without a key prefix.
    expect(got.issues?.[0]?.path ?? []).toEqual([]);
  });

  it("names unknown keys, and requires url", async () => {
    expect(await messages({ url: URL, fileext: ".ics", collection_id: "x" })).toEqual([
      "caldav storage doesn't take the parameters: fileext, collection_id",
    ]);
    const missing = await validate({});
    expect(missing.issues?.map((i) => i.path)).toEqual([["url"]]);
  });

  it("refuses bad values of our own tuning keys", async () => {
    expect(await messages({ url: URL, timeout: 0 })).toHaveLength(1);
    expect(await messages({ url: URL, multiget_batch_size: 2.5 })).toHaveLength(1);
    expect(await messages({ url: URL, multiget_concurrency: 0 })).toHaveLength(1);
  });
});

describe("collection options", () => {
  it("passes item_types and the evaluated window, labelled as vdirsyncer labels it", async () => {
    const { value } = await validate({
      url: URL,
      item_types: ["VTODO"],
      start_date: "datetime(2013, 9, 10)",
      end_date: "start_date + timedelta(days=3)",
      multiget_batch_size: 10,
    });
    expect(caldavCollectionOptions(value!)).toEqual({
      kind: "calendar",
      fileext: ".ics",
      itemTypes: ["VTODO"],
      timeRange: { start: new Date("2013-09-10T00:00:00Z"), end: new Date("2013-09-13T00:00:00Z") },
      multigetBatchSize: 10,
    });
  });

  it("sets no filter without item_types or dates", async () => {
    const { value } = await validate({ url: URL, item_types: [] });
    expect(caldavCollectionOptions(value!)).toEqual({ kind: "calendar", fileext: ".ics" });
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
