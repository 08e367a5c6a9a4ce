/**
 * A safe reader for the `start_date` / `end_date` options.
 *
 * vdirsyncer evaluates these strings with Python's `eval` in the namespace of the `datetime` module, which runs
 * any code a config file contains (config.md §11). We accept the subset people actually write, parse it into a
 * small tree, and evaluate that tree with Python's arithmetic rules, so that the resulting query window is the
 * one vdirsyncer would have used. Nothing is ever handed to a JavaScript or Python evaluator.
 */

/** What the date options accept, quoted in every error message so the user sees the alternatives. */
export const ACCEPTED_DATE_FORMS =
  "datetime.now(), datetime.now(timezone.utc), datetime.today(), datetime.utcnow(), date.today(), " +
  "datetime(y, m, d[, H, M, S]), date(y, m, d), datetime.fromisoformat('…'), date.fromisoformat('…'), " +
  "an ISO 8601 date or date-time (2024-01-31, 2024-01-31T08:00:00, 2024-01-31T08:00:00Z), " +
  "each plus or minus timedelta(days=…, weeks=…, hours=…, minutes=…, seconds=…) terms; " +
  "end_date may also use start_date";

/** Why a date expression was refused; `message` quotes the expression and lists what is accepted. */
export class DateExpressionError extends Error {
  override readonly name = "DateExpressionError";
  /** `start_date` or `end_date`. */
  readonly option: string;
  /** The expression as written. */
  readonly expression: string;
  /** What is wrong, without the list of accepted forms. */
  readonly problem: string;
  constructor(option: string, expression: string, problem: string) {
    super(`Invalid ${option} ${JSON.stringify(expression)}: ${problem}. Accepted: ${ACCEPTED_DATE_FORMS}.`);
    this.option = option;
    this.expression = expression;
    this.problem = problem;
  }
}

import { check, evaluateTree, toDate } from "./date-evaluate.ts";
import { Parser } from "./date-syntax.ts";
import type { Node } from "./date-types.ts";

export interface DateExpression {
  /** The text as written in the config. */
  readonly source: string;
  /**
   * Evaluates the expression at `now`.
   *
   * The result is a `Date` whose **UTC fields** are what vdirsyncer's `strftime("%Y%m%dT%H%M%SZ")` prints: for
   * naive values (`datetime.now()`, `date.today()`, `datetime(2024, 1, 1)`) the local wall-clock time, labelled
   * UTC without conversion as vdirsyncer does; for `datetime.now(timezone.utc)` and bare ISO text with `Z` or an
   * offset, the real UTC instant. (`datetime.fromisoformat("…+02:00")` keeps its own wall clock, as in Python.)
   * @default now `new Date()`
   * @throws {DateExpressionError} the arithmetic fails (a year out of range, naive minus aware…)
   */
  evaluate(now?: Date): Date;
}

interface Compiled {
  source: string;
  tree: Node;
  fail: (problem: string) => never;
}

function compile(source: string, option: string): Compiled {
  const fail = (problem: string): never => {
    throw new DateExpressionError(option, source, problem);
  };
  const tree = new Parser(source, fail).parseAll();
  // Check names and call shapes now, so that a typo is reported when the config is read, not at the first sync.
  check(tree, option, fail);
  return { source, tree, fail };
}

/**
 * Parses a `start_date`/`end_date` expression without evaluating anything.
 *
 * `start_date` (the evaluated start, as in vdirsyncer's namespace) is refused here even for `end_date`: only
 * {@link evaluateDateRange} knows its value.
 * @param option the option name, for messages (`start_date` or `end_date`)
 * @throws {DateExpressionError} the text is not in the accepted subset
 */
export function parseDateExpression(source: string, option = "start_date"): DateExpression {
  const c = compile(source, option);
  return { source, evaluate: (now = new Date()) => toDate(evaluateTree(c.tree, { now }, c.fail), c.fail) };
}

/**
 * Parses and evaluates `start_date` and `end_date` together, at one `now`; the end may use `start_date`.
 * @throws {DateExpressionError} either expression is refused or its arithmetic fails
 */
export function evaluateDateRange(
  start: string,
  end: string,
  now: Date = new Date(),
): { start: Date; end: Date } {
  const s = compile(start, "start_date");
  const e = compile(end, "end_date");
  const startValue = evaluateTree(s.tree, { now }, s.fail);
  const endValue = evaluateTree(e.tree, { now, start: startValue }, e.fail);
  return { start: toDate(startValue, s.fail), end: toDate(endValue, e.fail) };
}

/**
 * Checks both options as {@link evaluateDateRange} would read them, without evaluating.
 * @throws {DateExpressionError} either expression is refused
 */
export function checkDateRange(start: string, end: string): void {
  compile(start, "start_date");
  compile(end, "end_date");
}
