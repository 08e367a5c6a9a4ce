/** The parser of the date expression language: tokens, then a small tree (see date-expression.ts). */
import { parseIso } from "./date-evaluate.ts";
import { ISO_PATTERN, type Node } from "./date-types.ts";

/* ------------------------------------------------------------------ parsing */

export type Token =
  | { t: "num"; text: string; pos: number }
  | { t: "iso"; text: string; pos: number }
  | { t: "str"; value: string; pos: number }
  | { t: "id"; text: string; pos: number }
  | { t: "op"; text: "+" | "-" | "(" | ")" | "," | "." | "="; pos: number }
  | { t: "end"; pos: number };

const NUMBER_PATTERN = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])/;
const IDENT_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*/;

export function tokenize(source: string, fail: (problem: string) => never): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = source.slice(i);
    const iso = ISO_PATTERN.exec(rest);
    if (iso) {
      tokens.push({ t: "iso", text: iso[0], pos: i });
      i += iso[0].length;
      continue;
    }
    const num = NUMBER_PATTERN.exec(rest);
    if (num) {
      tokens.push({ t: "num", text: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const id = IDENT_PATTERN.exec(rest);
    if (id) {
      tokens.push({ t: "id", text: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const close = source.indexOf(ch, i + 1);
      const body = close < 0 ? "" : source.slice(i + 1, close);
      if (close < 0 || body.includes("\\")) fail(`unsupported string literal at position ${i + 1}`);
      tokens.push({ t: "str", value: body, pos: i });
      i = close + 1;
      continue;
    }
    if ("+-(),.=".includes(ch)) {
      tokens.push({ t: "op", text: ch as "+", pos: i });
      i++;
      continue;
    }
    fail(`unexpected ${JSON.stringify(ch)} at position ${i + 1}`);
  }
  tokens.push({ t: "end", pos: source.length });
  return tokens;
}

export class Parser {
  private readonly tokens: Token[];
  private readonly source: string;
  private readonly fail: (problem: string) => never;
  private i = 0;
  constructor(source: string, fail: (problem: string) => never) {
    this.source = source;
    this.fail = fail;
    this.tokens = tokenize(source, fail);
  }

  parseAll(): Node {
    if (this.source.trim() === "") this.fail("the expression is empty");
    const node = this.expr(0);
    const next = this.peek();
    if (next.t !== "end") this.fail(`unexpected ${describe(next)} at position ${next.pos + 1}`);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.t === "op" && t.text === text;
  }
  private expect(text: string): void {
    const t = this.next();
    if (t.t !== "op" || t.text !== text)
      this.fail(`expected "${text}" but found ${describe(t)} at position ${t.pos + 1}`);
  }

  // Nesting is bounded so that a hostile config cannot exhaust the stack.
  private expr(depth: number): Node {
    if (depth > 32) this.fail("the expression is nested too deeply");
    let left = this.unary(depth);
    while (this.isOp("+") || this.isOp("-")) {
      const op = this.next() as { text: "+" | "-"; pos: number };
      const right = this.unary(depth);
      left = { type: "binary", op: op.text, left, right, pos: op.pos };
    }
    return left;
  }

  private unary(depth: number): Node {
    if (this.isOp("+") || this.isOp("-")) {
      const op = this.next() as { text: "+" | "-"; pos: number };
      return { type: "unary", op: op.text, operand: this.unary(depth + 1), pos: op.pos };
    }
    return this.primary(depth);
  }

  private primary(depth: number): Node {
    const t = this.next();
    switch (t.t) {
      case "num": {
        const integer = /^\d+$/.test(t.text);
        return { type: "literal", value: { kind: "number", value: Number(t.text), integer } };
      }
      case "iso":
        return { type: "literal", value: parseIso(t.text, this.fail) };
      case "str":
        return { type: "literal", value: { kind: "string", value: t.value } };
      case "op":
        if (t.text === "(") {
          const inner = this.expr(depth + 1);
          this.expect(")");
          return inner;
        }
        return this.fail(`unexpected ${describe(t)} at position ${t.pos + 1}`);
      case "end":
        return this.fail("the expression ends too early");
      case "id": {
        let name = t.text;
        let attr: string | undefined;
        if (this.isOp(".")) {
          this.next();
          const a = this.next();
          if (a.t !== "id") return this.fail(`expected a name after "." at position ${a.pos + 1}`);
          attr = a.text;
          name = `${t.text}.${a.text}`;
        }
        if (this.isOp("(")) {
          this.next();
          return this.call(name, t.pos, depth);
        }
        if (attr !== undefined) return { type: "attr", object: t.text, attr, pos: t.pos };
        return { type: "name", name, pos: t.pos };
      }
    }
  }

  private call(callee: string, pos: number, depth: number): Node {
    const args: Node[] = [];
    const kwargs: [string, Node][] = [];
    while (!this.isOp(")")) {
      const t = this.peek();
      const after = this.tokens[this.i + 1];
      if (t.t === "id" && after?.t === "op" && after.text === "=") {
        this.i += 2;
        if (kwargs.some(([k]) => k === t.text))
          this.fail(`keyword argument "${t.text}" repeated in ${callee}()`);
        kwargs.push([t.text, this.expr(depth + 1)]);
      } else {
        if (kwargs.length > 0) this.fail(`a positional argument follows a keyword argument in ${callee}()`);
        args.push(this.expr(depth + 1));
      }
      if (!this.isOp(",")) break;
      this.next();
    }
    this.expect(")");
    return { type: "call", callee, args, kwargs, pos };
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case "end":
      return "the end";
    case "str":
      return `'${t.value}'`;
    default:
      return `"${t.text}"`;
  }
}

/* ------------------------------------------------------------- the functions */
