/** Per-server choices, found by measuring (see the README's "Server notes"). */
export interface ServerProfile {
  name: "radicale" | "xandikos" | "unknown";
  /** hrefs per multiget REPORT. */
  multigetBatchSize: number;
  /** multiget REPORTs in flight. */
  multigetConcurrency: number;
}

const PROFILES: Record<ServerProfile["name"], ServerProfile> = {
  radicale: { name: "radicale", multigetBatchSize: 100, multigetConcurrency: 2 },
  xandikos: { name: "xandikos", multigetBatchSize: 50, multigetConcurrency: 4 },
  unknown: { name: "unknown", multigetBatchSize: 50, multigetConcurrency: 4 },
};

/**
 * Picks a profile from the `Server` and `DAV` headers of the first answer (`"<server> | <dav>"`).
 * Xandikos names itself in `Server`; Radicale runs under Python's WSGI server and is recognised by that
 * together with its DAV capabilities.
 */
export function profileFor(serverHeader: string | undefined): ServerProfile {
  const h = (serverHeader ?? "").toLowerCase();
  if (h.includes("xandikos")) return PROFILES.xandikos;
  if (h.includes("radicale") || (h.includes("wsgiserver") && h.includes("calendar-access")))
    return PROFILES.radicale;
  return PROFILES.unknown;
}
