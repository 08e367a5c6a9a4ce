import { isPyBlank, pySplitlines, pyStrip } from "../compat/strings.ts";
import { InvalidItemError } from "../errors.ts";
import { deleteProperty, getProperty, LINE_BREAK } from "./properties.ts";

/**
 * The text of an item or collection does not have the component structure the lazy parser needs.
 *
 * Messages are vdirsyncer's, word for word, because users search for them: `Parsing error at line N`,
 * `Got END:X, expected END:Y at line N`, `Missing END for component(s): A, B`,
 * `Found N components, expected one.`, `Unknown component: X`, `Not sure how to join components.`
 */
export class ParseError extends InvalidItemError {
  /** The 1-based line (in the split input) where parsing stopped, when there is one. */
  readonly line: number | undefined;

  constructor(
    message: string,
    options?: { line?: number; href?: string; location?: string; cause?: unknown },
  ) {
    super(message, options);
    this.line = options?.line;
  }
}

/**
 * One component (`BEGIN:X` … `END:X`) as found by vdirsyncer's deliberately lazy parser.
 *
 * It only finds component boundaries: property lines are kept verbatim, folded and in order, so a
 * parse/serialise round trip changes nothing but blank lines, `BEGIN`/`END` spelling and the position of
 * properties written after a subcomponent. Mutable, like vdirsyncer's `_Component`.
 */
export class Component {
  /** The component name, upper-cased and stripped (`VEVENT`). */
  name: string;
  /** The component's own property lines, raw: not unfolded, continuation lines included, blank lines dropped. */
  props: string[];
  /** Nested components, in input order. */
  subcomponents: Component[];

  constructor(name: string, props: string[] = [], subcomponents: Component[] = []) {
    this.name = name;
    this.props = props;
    this.subcomponents = subcomponents;
  }

  /**
   * Parses text (split with Python `splitlines()`) or a list of lines into components.
   *
   * With `multiple`, MUST return every top-level component; without, MUST return an array of exactly one.
   * A line starting with `BEGIN:` (case-sensitive) opens a component named by the rest of the line,
   * stripped and upper-cased; `END:` closes it and MUST name the same component; blank lines are dropped;
   * any other line is a property of the innermost open component.
   * @throws {ParseError} `Parsing error at line N` for a property or `END` outside any component;
   *   `Got END:X, expected END:Y at line N`; `Missing END for component(s): …`;
   *   `Found N components, expected one.` when `multiple` is false
   */
  static parse(input: string | readonly string[], multiple = false): Component[] {
    const result = Component.tryParse(input);
    if (result instanceof ParseError) throw result;
    if (!multiple && result.length !== 1) {
      throw new ParseError(`Found ${result.length} components, expected one.`);
    }
    return result;
  }

  /**
   * The parser behind {@link Component.parse}, returning the error instead of throwing it: hashing falls back
   * to the raw text on failure and should not pay for a stack trace.
   */
  static tryParse(input: string | readonly string[]): Component[] | ParseError {
    const lines = typeof input === "string" ? pySplitlines(input) : input;
    const stack: Component[] = [];
    const top: Component[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.startsWith("BEGIN:")) {
        stack.push(new Component(pyStrip(line.slice(6)).toUpperCase()));
      } else if (line.startsWith("END:")) {
        const component = stack.pop();
        if (component === undefined) return new ParseError(`Parsing error at line ${i + 1}`, { line: i + 1 });
        // Since vdirsyncer 0.19.3 the END name must match; 0.19.0 accepted any.
        const endName = pyStrip(line.slice(4)).toUpperCase();
        if (endName !== component.name) {
          return new ParseError(`Got END:${endName}, expected END:${component.name} at line ${i + 1}`, {
            line: i + 1,
          });
        }
        const parent = stack[stack.length - 1];
        if (parent === undefined) top.push(component);
        else parent.subcomponents.push(component);
      } else if (!isPyBlank(line)) {
        const current = stack[stack.length - 1];
        if (current === undefined) return new ParseError(`Parsing error at line ${i + 1}`, { line: i + 1 });
        current.props.push(line);
      }
    }
    if (stack.length > 0) {
      return new ParseError(`Missing END for component(s): ${stack.map((c) => c.name).join(", ")}`);
    }
    return top;
  }

  /**
   * Parses text that must hold exactly one top-level component.
   * @throws {ParseError} as {@link Component.parse}
   */
  static parseOne(input: string | readonly string[]): Component {
    return Component.parse(input, false)[0]!;
  }

  /** The serialised lines: `BEGIN:NAME`, the property lines, each subcomponent's lines, `END:NAME`. */
  toLines(): string[] {
    const out: string[] = [];
    this.appendLines(out);
    return out;
  }

  /** Appends the lines of {@link toLines} to `out`, without building intermediate arrays. */
  appendLines(out: string[]): void {
    out.push(`BEGIN:${this.name}`);
    for (const line of this.props) out.push(line);
    for (const c of this.subcomponents) c.appendLines(out);
    out.push(`END:${this.name}`);
  }

  /** The serialised lines joined with `\r\n`, with no trailing newline (vdirsyncer's item format). */
  toString(): string {
    return this.toLines().join("\r\n");
  }

  /**
   * The value of the first property line starting with `KEY:` or `KEY;` (case-sensitive), or `undefined`.
   *
   * Parameters are dropped up to the first `:`. Continuation lines (starting with a space or a tab) are
   * unfolded by removing their first character. The value is not stripped.
   */
  get(key: string): string | undefined {
    return getProperty(this.props, key);
  }

  /** True when {@link get} finds the property. */
  has(key: string): boolean {
    return getProperty(this.props, key) !== undefined;
  }

  /**
   * Removes every property line starting with `KEY:` or `KEY;`, together with the lines that follow it and
   * start with a space, a tab, `KEY:` or `KEY;` (vdirsyncer ≥ 0.20.0 behaviour for adjacent duplicates).
   */
  delete(key: string): void {
    this.props = deleteProperty(this.props, key);
  }

  /**
   * Replaces the property: deletes `key` as {@link delete} does, then appends the line `KEY:value`.
   * @throws {InvalidItemError} when `value` holds a line break, which would corrupt the item
   */
  set(key: string, value: string): void {
    if (LINE_BREAK.test(value)) {
      throw new InvalidItemError(`The value of ${key} cannot contain a line break.`);
    }
    this.delete(key);
    this.props.push(`${key}:${value}`);
  }

  /** True when both trees have the same names, property lines and subcomponents, recursively. */
  equals(other: Component): boolean {
    if (this.name !== other.name || this.props.length !== other.props.length) return false;
    if (this.subcomponents.length !== other.subcomponents.length) return false;
    for (let i = 0; i < this.props.length; i++) if (this.props[i] !== other.props[i]) return false;
    for (let i = 0; i < this.subcomponents.length; i++) {
      if (!this.subcomponents[i]!.equals(other.subcomponents[i]!)) return false;
    }
    return true;
  }
}
