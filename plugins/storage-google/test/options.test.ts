import { describe, expect, it } from "vitest";
import { ENDPOINTS_ENV, GOOGLE_ENDPOINTS, resolveEndpoints } from "../src/endpoints.ts";
import { googleCalendar, googleContacts } from "../src/index.ts";

async function problems(
  definition: typeof googleCalendar | typeof googleContacts,
  raw: unknown,
): Promise<string[]> {
  const result = await definition.options["~standard"].validate(raw);
  return result.issues ? result.issues.map((i) => i.message) : [];
}

const BASE = { token_file: "~/.vdirsyncer/google.json", client_id: "id", client_secret: "secret" };

describe("options", () => {
  it("both types take token_file, client_id and client_secret, and a discovered url", async () => {
    expect(await problems(googleCalendar, BASE)).toEqual([]);
    expect(
      await problems(googleContacts, {
        ...BASE,
        url: "https://www.googleapis.com/carddav/v1/x/lists/default/",
      }),
    ).toEqual([]);
  });

  it("the calendar filters go through caldav's checks, with its messages", async () => {
    expect(
      await problems(googleCalendar, {
        ...BASE,
        start_date: "datetime.now() - timedelta(days=30)",
        end_date: "datetime.now() + timedelta(days=365)",
        item_types: ["VEVENT"],
      }),
    ).toEqual([]);
    expect(await problems(googleCalendar, { ...BASE, start_date: "datetime.now()" })).toEqual([
      "If start_date is given, end_date has to be given too.",
    ]);
    expect(await problems(googleCalendar, { ...BASE, item_types: "VEVENT" })).toEqual([
      "item_types must be a list.",
    ]);
    const refused = await problems(googleCalendar, {
      ...BASE,
      start_date: "__import__('os')",
      end_date: "x",
    });
    expect(refused.join(" ")).toContain("__import__");
  });

  it("keys vdirsyncer's Google storages do not take are refused with its message", async () => {
    expect(await problems(googleContacts, { ...BASE, start_date: "x", username: "bob" })).toEqual([
      "google_contacts storage doesn't take the parameters: start_date, username",
    ]);
    expect(await problems(googleCalendar, { ...BASE, verify: "/etc/ssl/ca.pem" })).toEqual([
      "google_calendar storage doesn't take the parameters: verify",
    ]);
  });

  it("all three keys are required", async () => {
    const result = await googleCalendar.options["~standard"].validate({ token_file: "t" });
    expect(result.issues?.map((i) => i.path?.map(String).join("."))).toEqual(["client_id", "client_secret"]);
  });
});

describe(`${ENDPOINTS_ENV} (test only)`, () => {
  it("is Google's endpoints when unset, and warns when it replaces some", () => {
    expect(resolveEndpoints({})).toEqual(GOOGLE_ENDPOINTS);
    const warnings: string[] = [];
    const got = resolveEndpoints({ [ENDPOINTS_ENV]: '{"token":"http://127.0.0.1:9/token"}' }, (m) =>
      warnings.push(m),
    );
    expect(got).toEqual({ ...GOOGLE_ENDPOINTS, token: "http://127.0.0.1:9/token" });
    expect(warnings[0]).toContain("test only");
  });

  it("a process warns once per value, however many storages it creates", async () => {
    const previous = process.env[ENDPOINTS_ENV];
    const lines: string[] = [];
    const ctx = {
      instance: "google_test",
      log: { debug() {}, info() {}, warn: (m: string) => lines.push(m), error() {} },
      stats: { add() {} },
      signal: new AbortController().signal,
    };
    const options = { ...BASE, token_file: "/nonexistent/token.json" };
    try {
      process.env[ENDPOINTS_ENV] = `{"token":"http://127.0.0.1:9/once-${process.pid}-${Date.now()}"}`;
      await googleCalendar.create(options, ctx);
      await googleContacts.create(options, ctx);
      await googleCalendar.create(options, ctx);
      expect(lines.filter((l) => l.includes(ENDPOINTS_ENV))).toHaveLength(1);
      process.env[ENDPOINTS_ENV] = `{"token":"http://127.0.0.1:9/twice-${process.pid}-${Date.now()}"}`;
      await googleCalendar.create(options, ctx);
      expect(lines.filter((l) => l.includes(ENDPOINTS_ENV))).toHaveLength(2);
    } finally {
      if (previous === undefined) delete process.env[ENDPOINTS_ENV];
      else process.env[ENDPOINTS_ENV] = previous;
    }
  });

  it("refuses unknown keys, non-URLs and non-JSON", () => {
    expect(() => resolveEndpoints({ [ENDPOINTS_ENV]: '{"tokn":"http://x/"}' })).toThrow(/unknown key "tokn"/);
    expect(() => resolveEndpoints({ [ENDPOINTS_ENV]: '{"token":"nope"}' })).toThrow(/absolute URL/);
    expect(() => resolveEndpoints({ [ENDPOINTS_ENV]: "http://x/" })).toThrow(/JSON object/);
  });
});
