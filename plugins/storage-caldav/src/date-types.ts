/** The values and syntax tree of the date expression language, shared by its parser and evaluator. */

export const US_PER_SECOND = 1_000_000n;
export const US_PER_DAY = 86_400n * US_PER_SECOND;

/**
 * A value of the expression language.
 * - `date`: a calendar day, as days since 1970-01-01.
 * - `datetime`: wall-clock fields as microseconds since 1970-01-01T00:00 (Python's arithmetic on them ignores
 *   time zones and DST), with the UTC offset in microseconds for an aware datetime, `null` for a naive one.
 * - `timedelta`: a signed duration in microseconds.
 */
export type Value =
  | { kind: "date"; days: number }
  | { kind: "datetime"; us: bigint; offset: bigint | null }
  | { kind: "timedelta"; us: bigint }
  | { kind: "number"; value: number; integer: boolean }
  | { kind: "string"; value: string }
  | { kind: "tz" };

export type Node =
  | { type: "literal"; value: Value }
  | { type: "name"; name: string; pos: number }
  | { type: "attr"; object: string; attr: string; pos: number }
  | { type: "call"; callee: string; args: Node[]; kwargs: [string, Node][]; pos: number }
  | { type: "unary"; op: "+" | "-"; operand: Node; pos: number }
  | { type: "binary"; op: "+" | "-"; left: Node; right: Node; pos: number };

/** A parsed date expression; {@link DateExpression.evaluate} gives the instant to query with. */

/** An ISO date or date-time literal as the expressions write it (`2024-01-31`, `2024-01-31T10:00:00+01:00`). */
export const ISO_PATTERN =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?(?![\w.:])/;
