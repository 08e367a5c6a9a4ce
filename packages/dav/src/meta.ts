/** Collection metadata over DAV properties: PROPFIND Depth 0 to read, PROPPATCH to write. */
import { InvalidResponseError, type MetaKey, normalizeMetaValue, UnsupportedError } from "@vdirsyncer/core";
import { pyUnquote } from "@vdirsyncer/core/compat";
import type { DavKind } from "./api.ts";
import { redactUrl } from "./http-errors.ts";
import { parseMultistatus, propResponses } from "./multistatus.ts";
import type { CollectionTransport } from "./transport.ts";
import { el, NS } from "./xml.ts";

/** Metadata keys and their properties per kind. */
const META_PROPS: Record<DavKind, Partial<Record<MetaKey, [string, string]>>> = {
  calendar: {
    displayname: [NS.DAV, "displayname"],
    color: [NS.ICAL, "calendar-color"],
    description: [NS.CALDAV, "calendar-description"],
    order: [NS.ICAL, "calendar-order"],
  },
  addressbook: {
    displayname: [NS.DAV, "displayname"],
    description: [NS.CARDDAV, "addressbook-description"],
  },
};

/** The metadata keys a collection of that kind supports. */
export function metaKeys(kind: DavKind): MetaKey[] {
  return Object.keys(META_PROPS[kind]) as MetaKey[];
}

/**
 * True when `value` is the displayname a server makes up for a collection that has none: Radicale reports the
 * collection's path (`user/work`), Xandikos its last segment (`work`). Such a name was never chosen by anyone, so
 * it reads as unset; otherwise the first metasync after creating a collection (which sets no name) would see two
 * different names and report a conflict.
 */
export function isServerDefaultName(collectionUrl: string, value: string): boolean {
  const path = pyUnquote(new URL(collectionUrl).pathname.replace(/^\/+|\/+$/g, ""));
  return value === path || value === path.split("/").at(-1);
}

function metaProp(kind: DavKind, key: MetaKey): [string, string] {
  const prop = META_PROPS[kind][key];
  if (!prop) throw new UnsupportedError(`The metadata key ${key} is not supported for ${kind}s.`);
  return prop;
}

/** PROPFIND Depth 0 for the property of `key`; `undefined` when absent or empty. */
export async function readMeta(t: CollectionTransport, key: MetaKey): Promise<string | undefined> {
  const [ns, name] = metaProp(t.opts.kind, key);
  const { res, root } = await t.multistatus(
    "PROPFIND",
    t.url,
    el(NS.DAV, "propfind", el(NS.DAV, "prop", el(ns, name))),
    {
      depth: "0",
    },
  );
  for (const r of propResponses(root, res.url)) {
    for (const p of r.props) {
      if (p.ns === ns && p.name === name) {
        const value = normalizeMetaValue(p.text);
        if (value && !(key === "displayname" && isServerDefaultName(t.url, value))) return value;
      }
    }
  }
  return undefined;
}

/** PROPPATCH set (or remove for `undefined`) of the property of `key`. */
export async function writeMeta(
  t: CollectionTransport,
  key: MetaKey,
  value: string | undefined,
): Promise<void> {
  const [ns, name] = metaProp(t.opts.kind, key);
  const op = value === undefined ? "remove" : "set";
  const body = el(
    NS.DAV,
    "propertyupdate",
    el(NS.DAV, op, el(NS.DAV, "prop", value === undefined ? el(ns, name) : el(ns, name, value))),
  );
  const res = await t.send("PROPPATCH", t.url, body);
  if (res.status >= 400) throw t.failure("PROPPATCH", res);
  if (res.status === 207) {
    const root = parseMultistatus(res.body, "PROPPATCH", res.url, t.log);
    for (const s of JSON.stringify(root).matchAll(/HTTP\/[\d.]+ (\d{3})/g)) {
      const code = Number(s[1]);
      if (code >= 400 && !(value === undefined && code === 404)) {
        throw new InvalidResponseError(
          `PROPPATCH ${redactUrl(t.url)}: the server refused ${key} (${code}).`,
          {
            body: res.body,
          },
        );
      }
    }
  }
}
