// Line-level property operations shared by the parser, the hash and split/join. Not part of the public API:
// index.ts does not re-export this file.

// Any of Python's line boundaries (see python.ts).
export const LINE_BREAK = /[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/;

function isContinuation(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 0x20 || c === 0x09;
}

/**
 * vdirsyncer's `_Component.__getitem__` over a flat list of lines.
 */
export function getProperty(lines: readonly string[], key: string): string | undefined {
  const plain = `${key}:`;
  const withParams = `${key};`;
  let i = 0;
  let value: string | undefined;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(plain)) {
      value = line.slice(plain.length);
      break;
    }
    if (line.startsWith(withParams)) {
      // Python's `rest.split(":", 1)[-1]`: without a colon the whole rest is the value.
      const rest = line.slice(withParams.length);
      const colon = rest.indexOf(":");
      value = colon === -1 ? rest : rest.slice(colon + 1);
      break;
    }
  }
  if (value === undefined) return undefined;
  for (i++; i < lines.length; i++) {
    const line = lines[i]!;
    if (!isContinuation(line)) break;
    value += line.slice(1);
  }
  return value;
}

/**
 * vdirsyncer's `_Component.__delitem__` (≥ 0.20.0) over a flat list of lines; returns a new list.
 */
export function deleteProperty(lines: readonly string[], key: string): string[] {
  const plain = `${key}:`;
  const withParams = `${key};`;
  const out: string[] = [];
  let deleting = false;
  for (const line of lines) {
    if (line.startsWith(plain) || line.startsWith(withParams)) deleting = true;
    else if (!(deleting && isContinuation(line))) {
      deleting = false;
      out.push(line);
    }
  }
  return out;
}
