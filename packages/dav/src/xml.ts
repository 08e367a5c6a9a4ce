import { SaxesParser } from "saxes";

/** XML namespaces used by WebDAV, CalDAV, CardDAV and the de-facto extensions. */
export const NS = {
  DAV: "DAV:",
  CALDAV: "urn:ietf:params:xml:ns:caldav",
  CARDDAV: "urn:ietf:params:xml:ns:carddav",
  CS: "http://calendarserver.org/ns/",
  ICAL: "http://apple.com/ns/ical/",
} as const;

/** One parsed element: namespace URI, local name, attributes (by local name), children and its own text. */
export interface XmlElement {
  ns: string;
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The concatenated character data directly inside this element (CDATA included), exactly as parsed. */
  text: string;
}

/** Bytes 0x00–0x08, 0x0B, 0x0C, 0x0E–0x1F: invalid in XML 1.0, sent by some servers (vdirsyncer #626). */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g;

/**
 * Removes XML-invalid control characters; calls `warn` once when any were found (vdirsyncer #626).
 * The text is otherwise unchanged.
 */
export function cleanControlChars(text: string, warn?: (message: string) => void): string {
  if (!CONTROL.test(text)) return text;
  CONTROL.lastIndex = 0;
  warn?.("Removed invalid control characters from the server's XML response.");
  return text.replace(CONTROL, "");
}

/**
 * Parses an XML document with namespaces resolved. Text is kept as the XML spec defines it: line ends are
 * normalised to `\n` (as vdirsyncer's parser does, so item text matches), entities decoded, nothing trimmed.
 * @throws {Error} the document is not well-formed XML (the message says where)
 */
export function parseXml(text: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: Error | undefined;
  parser.on("error", (error) => {
    failure ??= error;
  });
  parser.on("opentag", (tag) => {
    const attrs: Record<string, string> = {};
    for (const attr of Object.values(tag.attributes)) {
      if (typeof attr === "string") continue;
      if (attr.prefix === "xmlns" || attr.name === "xmlns") continue;
      attrs[attr.local] = attr.value;
    }
    const element: XmlElement = {
      ns: tag.uri ?? "",
      name: tag.local ?? tag.name,
      attrs,
      children: [],
      text: "",
    };
    const parent = stack.at(-1);
    if (parent) parent.children.push(element);
    else root ??= element;
    stack.push(element);
  });
  parser.on("closetag", () => {
    stack.pop();
  });
  const onText = (data: string) => {
    const current = stack.at(-1);
    if (current) current.text += data;
  };
  parser.on("text", onText);
  parser.on("cdata", onText);
  parser.write(text).close();
  if (failure) throw failure;
  if (!root) throw new Error("The document has no root element.");
  return root;
}

/** Direct children of `el` with namespace `ns` and name `name`. */
export function children(el: XmlElement | undefined, ns: string, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.ns === ns && c.name === name) : [];
}

/** The first direct child with that name. */
export function child(el: XmlElement | undefined, ns: string, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.ns === ns && c.name === name);
}

/** Every descendant (any depth, document order) with that name. */
export function descendants(el: XmlElement, ns: string, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.ns === ns && c.name === name) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}

/** Escapes text for XML character data and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" }[c]};`,
  );
}

/** An element to serialise: `[ns, name, attrs?, ...children]`; strings are text. */
export type XmlNode =
  | string
  | { ns: string; name: string; attrs?: Record<string, string>; children?: XmlNode[] };

/**
 * Shorthand for an {@link XmlNode} element; a first argument after `name` that is not an element (no `ns` and
 * `name` keys) is its attributes. Attributes named `name` alone (CalDAV `comp-filter`) are attributes.
 */
export function el(ns: string, name: string, ...content: (XmlNode | Record<string, string>)[]): XmlNode {
  const first = content[0];
  const attrs =
    first !== undefined && typeof first === "object" && !("ns" in first && "name" in first)
      ? content.shift()
      : undefined;
  return { ns, name, attrs: attrs as Record<string, string> | undefined, children: content as XmlNode[] };
}

const PREFIXES: Record<string, string> = {
  [NS.DAV]: "D",
  [NS.CALDAV]: "C",
  [NS.CARDDAV]: "CR",
  [NS.CS]: "CS",
  [NS.ICAL]: "I",
};

/** Serialises a request body with the namespaces declared once on the root element. */
export function buildXml(root: XmlNode): string {
  const used = new Map<string, string>();
  const prefix = (ns: string) => {
    let p = used.get(ns);
    if (!p) {
      p = PREFIXES[ns] ?? `x${used.size}`;
      used.set(ns, p);
    }
    return p;
  };
  const render = (node: XmlNode): string => {
    if (typeof node === "string") return escapeXml(node);
    const tag = `${prefix(node.ns)}:${node.name}`;
    const attrs = Object.entries(node.attrs ?? {})
      .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
      .join("");
    const inner = (node.children ?? []).map(render).join("");
    return inner === "" ? `<${tag}${attrs}/>` : `<${tag}${attrs}>${inner}</${tag}>`;
  };
  const body = render(root);
  const decls = [...used].map(([ns, p]) => ` xmlns:${p}="${escapeXml(ns)}"`).join("");
  const firstSpace = body.search(/[\s/>]/);
  return `<?xml version="1.0" encoding="utf-8"?>\n${body.slice(0, firstSpace)}${decls}${body.slice(firstSpace)}`;
}
