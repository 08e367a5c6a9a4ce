/** Per-server choices, found by measuring (see the README's "Server notes"). */
export interface ServerProfile {
  name: "radicale" | "xandikos" | "unknown";
  /** hrefs per multiget REPORT. */
  multigetBatchSize: number;
  /** multiget REPORTs in flight. */
  multigetConcurrency: number;
}

const PROFILES: Record<ServerProfile["name"], ServerProfile> = {
  radicale: { name: "radicale", multigetBatchSize: 250, multigetConcurrency: 2 },
  xandikos: { name: "xandikos", multigetBatchSize: 50, multigetConcurrency: 4 },
  unknown: { name: "unknown", multigetBatchSize: 50, multigetConcurrency: 4 },
};

/**
 * Picks a profile from the `Server` and `DAV` headers of the first answer (`"<server> | <dav>"`).
 * Neither names itself: Xandikos runs on aiohttp, Radicale on Python's WSGI server; anything else is unknown.
 */
export function profileFor(serverHeader: string | undefined): ServerProfile {
  const h = (serverHeader ?? "").toLowerCase();
  // Xandikos 0.2.8 says `Server: Python/3.11 aiohttp/3.8.4`; Radicale 3 `WSGIServer/0.2 CPython/3.11.2`.
  if (h.includes("xandikos") || h.includes("aiohttp")) return PROFILES.xandikos;
  if (h.includes("radicale") || h.includes("wsgiserver")) return PROFILES.radicale;
  return PROFILES.unknown;
}
