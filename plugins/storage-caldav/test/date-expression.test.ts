import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { DateExpressionError, evaluateDateRange, parseDateExpression } from "../src/date-expression.ts";

// A fixed instant with whole seconds, so Python's microseconds and our milliseconds cannot differ.
const NOW = new Date("2024-03-10T01:34:56.000Z");

/** vdirsyncer's `CALDAV_DT_FORMAT` applied to our result: its UTC fields. */
function caldavFormat(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

// Expressions Python accepts too: each is cross-checked against Python's eval in vdirsyncer's namespace.
const ACCEPTED: readonly string[] = [
  "datetime.now()",
  "datetime.today()",
  "datetime.utcnow()",
  "date.today()",
  "datetime.now(timezone.utc)",
  "datetime.now(tz=timezone.utc)",
  "datetime.now(UTC)",
  "datetime.now() - timedelta(days=365)",
  "datetime.now() + timedelta(days=365)",
  "datetime.now()-timedelta(weeks=2)",
  "timedelta(days=30) + datetime.now()",
  "datetime.now() - timedelta(days=1, hours=2, minutes=3, seconds=4)",
  "datetime.now() - timedelta(hours=36) + timedelta(minutes=90)",
  "datetime.now() - timedelta(30)",
  "datetime.now() - timedelta(1, 30)",
  "datetime.now() + timedelta(days=-7)",
  "datetime.now() - -timedelta(days=7)",
  "datetime.now() - (timedelta(days=1) + timedelta(hours=12))",
  "datetime.now() + timedelta(days=1.5)",
  "datetime.now() + timedelta(seconds=0.25, milliseconds=750)",
  "datetime.now() + timedelta(microseconds=1500000)",
  "date.today() - timedelta(days=30)",
  "date.today() + timedelta(weeks=52)",
  "date.today() + timedelta(hours=-1)",
  "date.today() - timedelta(hours=1)",
  "date.today() - timedelta(hours=25)",
  "date.today() + timedelta(days=0.9)",
  "datetime(2013, 9, 10)",
  "datetime(2013, 9, 10, 23, 59, 59)",
  "datetime(2013, 9, 10, 23, 59, 59, 999999)",
  "datetime(year=2013, month=9, day=10, hour=8)",
  "datetime(2013, 9, 10, tzinfo=timezone.utc)",
  "datetime(2024, 2, 29) + timedelta(days=365)",
  "datetime(2013, 9, 10) - timedelta(days=1)",
  "date(2013, 9, 10)",
  "date(2000, 3, 1) - timedelta(days=1)",
  "date(9999, 12, 31)",
  "datetime(2013, 9, 13) + (datetime(2013, 9, 13) - datetime(2013, 9, 10))",
  "datetime.now() + (date(2013, 9, 13) - date(2013, 9, 10))",
  "datetime.fromisoformat('2013-09-10')",
  "datetime.fromisoformat('2013-09-10T08:30:00')",
  "datetime.fromisoformat('2013-09-10T08:30:00+02:00')",
  "datetime.fromisoformat('2013-09-10T08:30:00+02:00') - timedelta(hours=1)",
  "date.fromisoformat('2013-09-10') + timedelta(days=3)",
  "  datetime.now()  ",
  "(datetime.now())",
];

// Expressions Python also rejects: our parser must refuse them, naming the problem.
const REJECTED: readonly [string, RegExp][] = [
  ["", /empty/],
  ["__import__('os').system('true')", /unexpected "\."/],
  ["__import__('os')", /unknown function "__import__\(\)"/],
  ["open('/etc/passwd')", /unknown function "open\(\)"/],
  ["datetime.now", /unknown name "datetime.now"/],
  ["datetime", /unknown name "datetime"/],
  ["datetime.datetime.now()", /unexpected "\."/],
  ["datetime.now() * 2", /unexpected "\*"/],
  ["timedelta(days=1) * 365", /unexpected "\*"/],
  ["datetime.now() - timedelta(days=1", /expected "\)"/],
  ["datetime.now() -", /ends too early/],
  ["timedelta(days=30)", /result is a timedelta/],
  ["42", /result is a number/],
  ["datetime.now() - datetime.now(timezone.utc)", /naive and a time-zone-aware/],
  ["datetime.now() + datetime.now()", /cannot compute a datetime \+ a datetime/],
  ["datetime.now() - date.today()", /cannot compute a datetime - a date/],
  ["datetime(2013, 2, 29)", /day is out of range/],
  ["datetime(2013, 13, 1)", /month must be in 1\.\.12/],
  ["datetime(2013, 9)", /missing the argument "day"/],
  ["datetime(2013, 9, 10.5)", /whole number for "day"/],
  ["datetime(2013, 9, 10, 24)", /time out of range/],
  ["timedelta(days=1, days=2)", /repeated/],
  ["timedelta(day=1)", /unexpected keyword argument "day"/],
  ["timedelta(days=1, 2)", /positional argument follows a keyword/],
  ["timedelta(1, 2, 3, 4, 5, 6, 7, 8)", /takes at most 7 arguments/],
  ["date.today(1)", /takes at most 0 arguments/],
  ["datetime.now(1)", /only timezone.utc/],
  ["date(9999, 12, 31) + timedelta(days=1)", /out of range/],
  ["start_date", /start_date can only be used in end_date/],
  ["datetime.now(); import os", /unexpected ";"/],
  ["lambda: 0", /unknown name "lambda"|unexpected/],
];

// Valid Python that lies outside the subset: refused on purpose (methods, other names, operators).
const OUTSIDE_SUBSET: readonly [string, RegExp][] = [
  ["datetime.now().replace(hour=0)", /unexpected "\."/],
  ["datetime.now() - 365 * timedelta(days=1)", /cannot compute a datetime - a number|unexpected "\*"/],
  ["datetime.combine(date.today(), time(8))", /unknown function "datetime.combine\(\)"/],
  ["datetime.now() - timedelta(days=1_000)", /unexpected/],
  ["datetime.min", /unknown name "datetime.min"/],
];

interface PyResult {
  ok?: string;
  error?: string;
}

/** Evaluates expressions with Python's eval in vdirsyncer's namespace, with now()/today() pinned to NOW. */
function pythonEval(pairs: readonly [string, string | null][]): PyResult[] {
  const local = [
    NOW.getFullYear(),
    NOW.getMonth() + 1,
    NOW.getDate(),
    NOW.getHours(),
    NOW.getMinutes(),
    NOW.getSeconds(),
  ];
  const utc = [
    NOW.getUTCFullYear(),
    NOW.getUTCMonth() + 1,
    NOW.getUTCDate(),
    NOW.getUTCHours(),
    NOW.getUTCMinutes(),
    NOW.getUTCSeconds(),
  ];
  const script = `
import datetime as _dt, json, sys
req = json.load(sys.stdin)
L = _dt.datetime(*req["local"])
U = _dt.datetime(*req["utc"], tzinfo=_dt.timezone.utc)
class datetime(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return L if tz is None else U.astimezone(tz)
    @classmethod
    def today(cls):
        return L
    @classmethod
    def utcnow(cls):
        return U.replace(tzinfo=None)
class date(_dt.date):
    @classmethod
    def today(cls):
        return L.date()
out = []
for start, end in req["pairs"]:
    # vdirsyncer's CalDAVStorage.__init__: the module's namespace, start_date visible to end_date.
    namespace = dict(_dt.__dict__)
    namespace["datetime"] = datetime
    namespace["date"] = date
    try:
        s = eval(start, namespace)
        namespace["start_date"] = s
        v = s if end is None else eval(end, namespace)
        out.append({"ok": v.strftime("%Y%m%dT%H%M%SZ")})
    except Exception as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`;
  const stdout = execFileSync("/usr/bin/python3", ["-c", script], {
    input: JSON.stringify({ local, utc, pairs }),
    encoding: "utf8",
  });
  return JSON.parse(stdout) as PyResult[];
}

describe("parseDateExpression", () => {
  it("accepts the expressions of the table and agrees with Python's eval on every one", () => {
    const python = pythonEval(ACCEPTED.map((e) => [e, null]));
    const ours = ACCEPTED.map((e) => caldavFormat(parseDateExpression(e).evaluate(NOW)));
    expect(ours).toEqual(python.map((r, i) => r.ok ?? `python failed on ${ACCEPTED[i]}: ${r.error}`));
  });

  it.each(REJECTED)("refuses %j, quoting it and naming the problem", (expression, problem) => {
    let caught: unknown;
    try {
      parseDateExpression(expression).evaluate(NOW);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DateExpressionError);
    const message = (caught as Error).message;
    expect(message).toMatch(problem);
    expect(message).toContain(`Invalid start_date ${JSON.stringify(expression)}: `);
    expect(message).toContain("Accepted: datetime.now(), ");
  });

  it.each(OUTSIDE_SUBSET)(
    "refuses %j, valid Python outside the subset, naming the problem",
    (expression, problem) => {
      expect(() => parseDateExpression(expression).evaluate(NOW)).toThrow(problem);
      expect(pythonEval([[expression, null]])[0]?.ok).toBeDefined();
    },
  );

  it("covers years 1 to 9999 like Python", () => {
    expect(parseDateExpression("date(1, 1, 1)").evaluate(NOW).toISOString()).toBe("0001-01-01T00:00:00.000Z");
    expect(parseDateExpression("datetime(9999, 12, 31, 23, 59, 59)").evaluate(NOW).toISOString()).toBe(
      "9999-12-31T23:59:59.000Z",
    );
    expect(() => parseDateExpression("date(1, 1, 1) - timedelta(days=1)").evaluate(NOW)).toThrow(
      /out of range/,
    );
  });

  it("refuses what Python refuses (the rejected table, where Python can run it safely)", () => {
    // Only expressions without side effects are handed to Python.
    const safe = REJECTED.map(([e]) => e).filter((e) => !/import|open|lambda|^start_date$/.test(e));
    const python = pythonEval(safe.map((e) => [e, null]));
    for (const [i, r] of python.entries()) {
      // Python evaluates some of these to a non-date (timedelta, int) and then fails in strftime: still an error.
      expect(r.ok, safe[i]).toBeUndefined();
    }
  });

  it("reads bare ISO 8601 dates and date-times (our extension), converting offsets to UTC", () => {
    const iso = (e: string) => parseDateExpression(e).evaluate(NOW).toISOString();
    expect(iso("2013-09-10")).toBe("2013-09-10T00:00:00.000Z");
    expect(iso("2013-09-10T08:30:00")).toBe("2013-09-10T08:30:00.000Z");
    expect(iso("2013-09-10 08:30")).toBe("2013-09-10T08:30:00.000Z");
    expect(iso("2013-09-10T08:30:00Z")).toBe("2013-09-10T08:30:00.000Z");
    expect(iso("2013-09-10T08:30:00+02:00")).toBe("2013-09-10T06:30:00.000Z");
    expect(iso("2013-09-10T08:30:00.5-0130")).toBe("2013-09-10T10:00:00.500Z");
    expect(iso("2013-09-10 - timedelta(days=1)")).toBe("2013-09-09T00:00:00.000Z");
    expect(() => parseDateExpression("2013-02-30")).toThrow(/not a valid ISO 8601 date/);
    expect(() => parseDateExpression("2013-09-10T25:00")).toThrow(/not a valid ISO 8601 date/);
  });

  it("labels naive local time as UTC, as vdirsyncer does (config.md §11)", () => {
    const got = parseDateExpression("datetime.now()").evaluate(NOW);
    expect([got.getUTCFullYear(), got.getUTCMonth(), got.getUTCDate(), got.getUTCHours()]).toEqual([
      NOW.getFullYear(),
      NOW.getMonth(),
      NOW.getDate(),
      NOW.getHours(),
    ]);
    expect(parseDateExpression("datetime.now(timezone.utc)").evaluate(NOW).getTime()).toBe(NOW.getTime());
  });

  it("evaluates at the clock it is given, not at parse time", () => {
    const expr = parseDateExpression("datetime.utcnow() + timedelta(hours=1)");
    expect(expr.evaluate(new Date("2020-01-01T00:00:00Z")).toISOString()).toBe("2020-01-01T01:00:00.000Z");
    expect(expr.evaluate(new Date("2021-06-01T12:00:00Z")).toISOString()).toBe("2021-06-01T13:00:00.000Z");
  });

  it("refuses deep nesting without exhausting the stack", () => {
    expect(() => parseDateExpression(`${"(".repeat(5000)}datetime.now()${")".repeat(5000)}`)).toThrow(
      /nested too deeply/,
    );
    expect(() => parseDateExpression(`${"-".repeat(5000)}timedelta(1)`)).toThrow(/nested too deeply/);
  });
});

describe("evaluateDateRange", () => {
  const PAIRS: readonly [string, string][] = [
    ["datetime.now() - timedelta(days=365)", "datetime.now() + timedelta(days=365)"],
    ["date(2013, 9, 10)", "start_date + timedelta(days=3)"],
    ["datetime(2013, 9, 10, 12)", "start_date + timedelta(weeks=1, hours=-6)"],
    ["date.today()", "start_date + timedelta(days=0.5)"],
    ["datetime.now(timezone.utc)", "start_date + timedelta(days=30)"],
  ];

  it("lets end_date use start_date, and agrees with Python on every pair", () => {
    const python = pythonEval(PAIRS);
    const ours = PAIRS.map(([s, e]) => caldavFormat(evaluateDateRange(s, e, NOW).end));
    expect(ours).toEqual(python.map((r) => r.ok));
  });

  it("names the option at fault", () => {
    expect(() => evaluateDateRange("datetime.now()", "tomorrow", NOW)).toThrow(
      /^Invalid end_date "tomorrow": unknown name "tomorrow"/,
    );
    expect(() => evaluateDateRange("yesterday", "datetime.now()", NOW)).toThrow(
      /^Invalid start_date "yesterday"/,
    );
  });
});
