import { pyStrip } from "../compat/strings.ts";
import { Component, ParseError } from "./component.ts";
import { Item } from "./item.ts";
import { deleteProperty, getProperty } from "./properties.ts";

const EVENT_LIKE = new Set(["VEVENT", "VTODO", "VJOURNAL"]);

// vdirsyncer's `_default_join_wrappers`: item type → the wrapper a joined file gets. VJOURNAL is missing
// upstream too; such items normally come wrapped in a VCALENDAR anyway.
const JOIN_WRAPPERS: ReadonlyMap<string, string> = new Map([
  ["VCALENDAR", "VCALENDAR"],
  ["VEVENT", "VCALENDAR"],
  ["VTODO", "VCALENDAR"],
  ["VCARD", "VADDRESSBOOK"],
]);

/**
 * Splits a whole `.ics`/`.vcf` file into items, as vdirsyncer's `split_collection` does.
 *
 * MUST produce the same items, in the same order and byte for byte, as vdirsyncer: each VEVENT/VTODO/VJOURNAL
 * is wrapped in a copy of its VCALENDAR's properties (minus `METHOD`), components sharing a UID form one item
 * (recurrence exceptions stay together), every VTIMEZONE of the file is appended to every item, items with
 * a UID come first in first-seen order, then the others in file order. Each item is joined with `\r\n` and
 * has no trailing newline. Runs in time linear in the size of the file.
 * @throws {ParseError} the text does not parse, or holds a component other than VCALENDAR, VADDRESSBOOK,
 *   VTIMEZONE, VCARD, VEVENT, VTODO or VJOURNAL (`Unknown component: X`)
 */
export function splitCollection(text: string): Item[] {
  const timezones: Component[] = [];
  const grouped = new Map<string, Component>();
  const ungrouped: Component[] = [];

  const visit = (component: Component, main: Component): void => {
    const name = component.name;
    if (name === "VTIMEZONE") {
      timezones.push(component);
    } else if (name === "VCARD") {
      ungrouped.push(component);
    } else if (EVENT_LIKE.has(name)) {
      // vdirsyncer quirk, kept: the group key is the unstripped value, only the emptiness test strips.
      const uid = getProperty(component.props, "UID") ?? "";
      let wrapper: Component | undefined;
      if (pyStrip(uid) !== "") {
        wrapper = grouped.get(uid);
        if (wrapper === undefined) {
          wrapper = new Component(main.name, main.props.slice());
          grouped.set(uid, wrapper);
        }
      } else {
        wrapper = new Component(main.name, main.props.slice());
        ungrouped.push(wrapper);
      }
      wrapper.subcomponents.push(component);
    } else if (name === "VCALENDAR" || name === "VADDRESSBOOK") {
      // METHOD (e.g. PUBLISH from webcal feeds) describes the feed, not the items.
      if (name === "VCALENDAR") component.props = deleteProperty(component.props, "METHOD");
      for (const sub of component.subcomponents) visit(sub, component);
    } else {
      throw new ParseError(`Unknown component: ${name}`);
    }
  };

  for (const main of Component.parse(text, true)) visit(main, main);

  const items: Item[] = [];
  for (const component of [...grouped.values(), ...ungrouped]) {
    const lines: string[] = [];
    lines.push(`BEGIN:${component.name}`);
    for (const line of component.props) lines.push(line);
    for (const sub of component.subcomponents) sub.appendLines(lines);
    // Every timezone goes into every item, referenced or not, as in vdirsyncer.
    for (const tz of timezones) tz.appendLines(lines);
    lines.push(`END:${component.name}`);
    items.push(new Item(lines.join("\r\n")));
  }
  return items;
}

/**
 * Joins items into one `.ics`/`.vcf` file, as vdirsyncer's `join_collection` does.
 *
 * MUST produce vdirsyncer's bytes: the wrapper (VCALENDAR, or VADDRESSBOOK for vCards) comes from the first
 * item of a known type; items that are wrappers give their property lines (de-duplicated line by line) and
 * their subcomponents, other items are used whole; components are de-duplicated by their serialised text,
 * so identical VTIMEZONEs appear once. Every line ends with `\r\n`; no items give `""`. Runs in linear time.
 * @throws {ParseError} an item does not parse as one component, or no item has a known type
 *   (`Not sure how to join components.`)
 */
export function joinCollection(items: readonly Item[]): string {
  if (items.length === 0) return "";
  const parsed = items.map((item) => Component.parseOne(item.raw));
  let wrapper: string | undefined;
  for (const c of parsed) {
    wrapper = JOIN_WRAPPERS.get(c.name);
    if (wrapper !== undefined) break;
  }
  if (wrapper === undefined) throw new ParseError("Not sure how to join components.");

  const wrapperProps = new Set<string>();
  const seenComponents = new Set<string>();
  const body: string[] = [];
  const addComponent = (c: Component): void => {
    const text = c.toString();
    if (seenComponents.has(text)) return;
    seenComponents.add(text);
    body.push(text);
  };
  for (const c of parsed) {
    if (c.name === wrapper) {
      for (const line of c.props) wrapperProps.add(line);
      for (const sub of c.subcomponents) addComponent(sub);
    } else {
      addComponent(c);
    }
  }

  // vdirsyncer quirk, kept: wrapper properties are de-duplicated line by line, which can break folded values.
  const out = [`BEGIN:${wrapper}`, ...wrapperProps, ...body, `END:${wrapper}`];
  return `${out.join("\r\n")}\r\n`;
}
