/**
 * The evaluator of the date expression language: names and call shapes checked, then Python's datetime arithmetic
 * (naive wall-clock microseconds, day counts, timedelta normalisation) on the tree.
 */
import { ISO_PATTERN, type Node, US_PER_DAY, US_PER_SECOND, type Value } from "./date-types.ts";

/** What an evaluation sees: the clock and, for `end_date`, the value of `start_date`. */
export interface Scope {
  now: Date;
  start?: Value;
}

interface Signature {
  params: readonly string[];
  required: number;
}

// Parameter lists in Python's order, so that positional and keyword arguments bind as they do there.
const SIGNATURES: Readonly<Record<string, Signature>> = {
  datetime: {
    params: ["year", "month", "day", "hour", "minute", "second", "microsecond", "tzinfo"],
    required: 3,
  },
  date: { params: ["year", "month", "day"], required: 3 },
  timedelta: {
    params: ["days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"],
    required: 0,
  },
  "datetime.now": { params: ["tz"], required: 0 },
  "datetime.today": { params: [], required: 0 },
  "datetime.utcnow": { params: [], required: 0 },
  "date.today": { params: [], required: 0 },
  "datetime.fromisoformat": { params: ["date_string"], required: 1 },
  "date.fromisoformat": { params: ["date_string"], required: 1 },
};

const NAMES = new Set(["start_date", "UTC"]);
const ATTRS = new Set(["timezone.utc"]);

export function check(node: Node, option: string, fail: (problem: string) => never): void {
  switch (node.type) {
    case "literal":
      return;
    case "name":
      if (node.name === "start_date" && option !== "end_date") {
        fail("start_date can only be used in end_date");
      }
      if (!NAMES.has(node.name)) fail(`unknown name "${node.name}"`);
      return;
    case "attr":
      if (!ATTRS.has(`${node.object}.${node.attr}`)) fail(`unknown name "${node.object}.${node.attr}"`);
      return;
    case "unary":
      check(node.operand, option, fail);
      return;
    case "binary":
      check(node.left, option, fail);
      check(node.right, option, fail);
      return;
    case "call": {
      const sig = SIGNATURES[node.callee];
      if (sig === undefined) fail(`unknown function "${node.callee}()"`);
      bind(node, sig!, fail);
      for (const a of node.args) check(a, option, fail);
      for (const [, a] of node.kwargs) check(a, option, fail);
      return;
    }
  }
}

/** Binds arguments to parameter names as Python does; errors name the function. */
export function bind(
  node: Extract<Node, { type: "call" }>,
  sig: Signature,
  fail: (p: string) => never,
): Map<string, Node> {
  const bound = new Map<string, Node>();
  if (node.args.length > sig.params.length) {
    fail(`${node.callee}() takes at most ${sig.params.length} arguments (${node.args.length} given)`);
  }
  for (const [i, a] of node.args.entries()) bound.set(sig.params[i]!, a);
  for (const [k, v] of node.kwargs) {
    if (!sig.params.includes(k)) fail(`${node.callee}() got an unexpected keyword argument "${k}"`);
    if (bound.has(k)) fail(`${node.callee}() got multiple values for argument "${k}"`);
    bound.set(k, v);
  }
  for (const p of sig.params.slice(0, sig.required)) {
    if (!bound.has(p)) fail(`${node.callee}() is missing the argument "${p}"`);
  }
  return bound;
}

/* --------------------------------------------------------------- evaluation */

export function evaluateTree(node: Node, clock: Scope, fail: (problem: string) => never): Value {
  const ev = (n: Node): Value => evaluateTree(n, clock, fail);
  switch (node.type) {
    case "literal":
      return node.value;
    case "name":
      if (node.name === "UTC") return { kind: "tz" };
      if (clock.start === undefined) return fail("start_date is not known here");
      return clock.start;
    case "attr":
      return { kind: "tz" };
    case "unary": {
      const v = ev(node.operand);
      if (node.op === "+") {
        if (v.kind === "number" || v.kind === "timedelta") return v;
      } else if (v.kind === "number") {
        return { ...v, value: -v.value };
      } else if (v.kind === "timedelta") {
        return { kind: "timedelta", us: -v.us };
      }
      return fail(`cannot apply unary ${node.op} to a ${v.kind}`);
    }
    case "binary":
      return arithmetic(node.op, ev(node.left), ev(node.right), fail);
    case "call":
      return callFunction(node, clock, fail);
  }
}

function callFunction(
  node: Extract<Node, { type: "call" }>,
  clock: Scope,
  fail: (problem: string) => never,
): Value {
  const bound = bind(node, SIGNATURES[node.callee]!, fail);
  const arg = (name: string): Value | undefined => {
    const n = bound.get(name);
    return n === undefined ? undefined : evaluateTree(n, clock, fail);
  };
  const int = (name: string, fallback?: number): number => {
    const v = arg(name);
    if (v === undefined) {
      if (fallback === undefined) return fail(`${node.callee}() is missing the argument "${name}"`);
      return fallback;
    }
    if (v.kind !== "number" || !v.integer) return fail(`${node.callee}() needs a whole number for "${name}"`);
    return v.value;
  };
  const now = clock.now;
  switch (node.callee) {
    case "datetime": {
      const [y, mo, d] = [int("year"), int("month"), int("day")];
      const [h, mi, s, us] = [int("hour", 0), int("minute", 0), int("second", 0), int("microsecond", 0)];
      checkDate(y, mo, d, fail);
      if (h > 23 || mi > 59 || s > 59 || us > 999_999) fail(`${node.callee}() got a time out of range`);
      const tz = arg("tzinfo");
      if (tz !== undefined && tz.kind !== "tz") fail("datetime() takes only timezone.utc as tzinfo");
      const days = daysFromCivil(y, mo, d);
      const total = ((BigInt(days) * 24n + BigInt(h)) * 60n + BigInt(mi)) * 60n + BigInt(s);
      return {
        kind: "datetime",
        us: total * US_PER_SECOND + BigInt(us),
        offset: tz === undefined ? null : 0n,
      };
    }
    case "date": {
      const [y, mo, d] = [int("year"), int("month"), int("day")];
      checkDate(y, mo, d, fail);
      return { kind: "date", days: daysFromCivil(y, mo, d) };
    }
    case "timedelta":
      return makeTimedelta(bound, (n) => evaluateTree(n, clock, fail), fail);
    case "datetime.now": {
      const tz = arg("tz");
      if (tz === undefined) return { kind: "datetime", us: localWallClock(now), offset: null };
      if (tz.kind !== "tz") return fail("datetime.now() takes only timezone.utc as its argument");
      return { kind: "datetime", us: BigInt(now.getTime()) * 1000n, offset: 0n };
    }
    case "datetime.today":
      return { kind: "datetime", us: localWallClock(now), offset: null };
    case "datetime.utcnow":
      return { kind: "datetime", us: BigInt(now.getTime()) * 1000n, offset: null };
    case "date.today":
      return { kind: "date", days: Number(floorDiv(localWallClock(now), US_PER_DAY)) };
    case "datetime.fromisoformat":
    case "date.fromisoformat": {
      const s = arg("date_string");
      if (s?.kind !== "string") return fail(`${node.callee}() needs a quoted string`);
      const v = ISO_PATTERN.exec(s.value)?.[0] === s.value ? parseIso(s.value, fail, true) : undefined;
      if (v === undefined) return fail(`${node.callee}() cannot read '${s.value}'`);
      if (node.callee === "date.fromisoformat") {
        if (v.kind !== "date")
          return fail(`date.fromisoformat() needs a date without a time, not '${s.value}'`);
        return v;
      }
      return v.kind === "date" ? { kind: "datetime", us: BigInt(v.days) * US_PER_DAY, offset: null } : v;
    }
  }
  return fail(`unknown function "${node.callee}()"`);
}

const TIMEDELTA_UNITS: Readonly<Record<string, number>> = {
  weeks: 7 * 86_400e6,
  days: 86_400e6,
  hours: 3_600e6,
  minutes: 60e6,
  seconds: 1e6,
  milliseconds: 1e3,
  microseconds: 1,
};

function makeTimedelta(bound: Map<string, Node>, ev: (n: Node) => Value, fail: (p: string) => never): Value {
  let whole = 0n;
  let fraction = 0;
  for (const [name, node] of bound) {
    const v = ev(node);
    if (v.kind !== "number") return fail(`timedelta() needs a number for "${name}", not a ${v.kind}`);
    const unit = TIMEDELTA_UNITS[name]!;
    if (v.integer) {
      whole += BigInt(v.value) * BigInt(unit);
    } else {
      // Python sums float parts and rounds once to the microsecond, half to even.
      const scaled = v.value * unit;
      const integral = Math.trunc(scaled);
      whole += BigInt(integral);
      fraction += scaled - integral;
    }
  }
  const us = whole + BigInt(roundHalfEven(fraction));
  if (us / US_PER_DAY > 999_999_999n || us / US_PER_DAY < -999_999_999n) fail("timedelta() is out of range");
  return { kind: "timedelta", us };
}

function arithmetic(op: "+" | "-", a: Value, b: Value, fail: (p: string) => never): Value {
  if (a.kind === "timedelta" && b.kind === "timedelta") {
    return { kind: "timedelta", us: op === "+" ? a.us + b.us : a.us - b.us };
  }
  if (op === "+" && a.kind === "timedelta" && (b.kind === "date" || b.kind === "datetime")) {
    return arithmetic("+", b, a, fail);
  }
  if (a.kind === "datetime" && b.kind === "timedelta") {
    return checkRange(
      { kind: "datetime", us: op === "+" ? a.us + b.us : a.us - b.us, offset: a.offset },
      fail,
    );
  }
  if (a.kind === "date" && b.kind === "timedelta") {
    // Python's date arithmetic uses only the timedelta's `days` (floored): date + timedelta(hours=-1) is the
    // day before, while date - timedelta(hours=1) is the same day.
    const days = Number(floorDiv(b.us, US_PER_DAY));
    return checkRange({ kind: "date", days: op === "+" ? a.days + days : a.days - days }, fail);
  }
  if (op === "-" && a.kind === "datetime" && b.kind === "datetime") {
    if ((a.offset === null) !== (b.offset === null)) {
      return fail("cannot subtract a naive and a time-zone-aware datetime");
    }
    return { kind: "timedelta", us: a.us - (a.offset ?? 0n) - (b.us - (b.offset ?? 0n)) };
  }
  if (op === "-" && a.kind === "date" && b.kind === "date") {
    return { kind: "timedelta", us: BigInt(a.days - b.days) * US_PER_DAY };
  }
  return fail(`cannot compute a ${a.kind} ${op} a ${b.kind}`);
}

// Python's datetime covers years 1 to 9999.
const MIN_DAYS = -719_162; // 0001-01-01
const MAX_DAYS = 2_932_896; // 9999-12-31

function checkRange<V extends Value>(v: V, fail: (p: string) => never): V {
  const days = v.kind === "date" ? v.days : v.kind === "datetime" ? Number(floorDiv(v.us, US_PER_DAY)) : 0;
  if (days < MIN_DAYS || days > MAX_DAYS) fail("the date is out of range (years 1 to 9999)");
  return v;
}

export function toDate(v: Value, fail: (p: string) => never): Date {
  switch (v.kind) {
    case "date":
      return new Date(v.days * 86_400_000);
    case "datetime":
      // strftime drops microseconds; a Date keeps milliseconds, which the query format drops as well.
      return new Date(Number(floorDiv(v.us, 1000n)));
    default:
      return fail(`the result is a ${v.kind}, not a date or datetime`);
  }
}

/* ----------------------------------------------------------------- calendar */

function isoFail(text: string, fail: (p: string) => never): never {
  return fail(`"${text}" is not a valid ISO 8601 date`);
}

/**
 * Reads ISO 8601 text. Bare ISO text (our extension) is converted to UTC; `keepOffset` keeps the wall clock and
 * the offset instead, as Python's `fromisoformat` does.
 */
export function parseIso(text: string, fail: (p: string) => never, keepOffset = false): Value {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|([+-])(\d{2})(?::?(\d{2}))?)?)?$/.exec(
      text,
    );
  if (!m) return isoFail(text, fail);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return isoFail(text, fail);
  const days = daysFromCivil(y, mo, d);
  if (m[4] === undefined) return { kind: "date", days };
  const [h, mi, s] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) return isoFail(text, fail);
  const frac = BigInt((m[7] ?? "").padEnd(6, "0"));
  const us = (((BigInt(days) * 24n + BigInt(h)) * 60n + BigInt(mi)) * 60n + BigInt(s)) * US_PER_SECOND + frac;
  if (m[8] === undefined) return { kind: "datetime", us, offset: null };
  let offset = 0n;
  if (m[8] !== "Z") {
    if (Number(m[10]) > 23 || Number(m[11] ?? 0) > 59) return isoFail(text, fail);
    const minutes = Number(m[10]) * 60 + Number(m[11] ?? 0);
    offset = BigInt((m[9] === "-" ? -1 : 1) * minutes) * 60n * US_PER_SECOND;
  }
  return keepOffset ? { kind: "datetime", us, offset } : { kind: "datetime", us: us - offset, offset: 0n };
}

function checkDate(y: number, m: number, d: number, fail: (p: string) => never): void {
  if (y < 1 || y > 9999) fail(`year ${y} is out of range`);
  if (m < 1 || m > 12) fail("month must be in 1..12");
  if (d < 1 || d > daysInMonth(y, m)) fail("day is out of range for month");
}

function daysInMonth(y: number, m: number): number {
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), valid for any year. */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The local wall-clock time of `now`, as microseconds of a naive datetime. */
function localWallClock(now: Date): bigint {
  const days = daysFromCivil(now.getFullYear(), now.getMonth() + 1, now.getDate());
  const seconds = ((BigInt(days) * 24n + BigInt(now.getHours())) * 60n + BigInt(now.getMinutes())) * 60n;
  return (seconds + BigInt(now.getSeconds())) * US_PER_SECOND + BigInt(now.getMilliseconds()) * 1000n;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
