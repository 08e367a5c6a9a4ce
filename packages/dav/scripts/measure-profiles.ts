// Measures multiget batch size × concurrency and the listing methods on 1k seeded events, per server.
// Run: node --conditions=source scripts/measure-profiles.ts  (numbers go into README "Server notes")
import { sampleEvent, seedCollection, startRadicale, startXandikos } from "@vdirsyncer/test-servers";
import { createDavSession, openDavCollection } from "../src/index.ts";

const N = Number(process.env.N ?? 1000);
for (const start of [startRadicale, startXandikos]) {
  const server = await start();
  try {
    const path = server.kind === "radicale" ? "user/bench" : "user/calendars/calendar";
    const items = Array.from({ length: N }, (_, i) => ({ name: `ev${i}.ics`, text: sampleEvent(`ev${i}`) }));
    const seeded = await seedCollection(server, path, "calendar", items);
    const session = createDavSession({
      url: server.url,
      username: server.username,
      password: server.password,
      timeoutMs: 600_000,
    });
    const base = openDavCollection(session, seeded.url, { kind: "calendar", fileext: ".ics" });
    let t = performance.now();
    const hrefs: string[] = [];
    for await (const r of base.list()) hrefs.push(r.href);
    console.log(
      `${server.kind} PROPFIND Depth 1 of ${hrefs.length}: ${Math.round(performance.now() - t)} ms`,
    );
    t = performance.now();
    const ch = await base.changes?.(undefined);
    console.log(
      `${server.kind} sync-collection initial (${ch?.changed.length}): ${Math.round(performance.now() - t)} ms`,
    );
    t = performance.now();
    await base.changes?.(ch?.token);
    console.log(`${server.kind} sync-collection no change: ${Math.round(performance.now() - t)} ms`);
    for (const [size, conc] of [
      [10, 4],
      [50, 1],
      [50, 4],
      [100, 2],
      [100, 4],
      [250, 2],
      [1000, 1],
    ]) {
      const c = openDavCollection(session, seeded.url, {
        kind: "calendar",
        fileext: ".ics",
        multigetBatchSize: size,
        multigetConcurrency: conc,
      });
      t = performance.now();
      let n = 0;
      for await (const r of c.getMany?.(hrefs) ?? []) if ("item" in r) n++;
      console.log(
        `${server.kind} multiget batch ${size} x ${conc}: ${n} items in ${Math.round(performance.now() - t)} ms`,
      );
    }
    await session.close();
  } finally {
    await server.stop();
  }
}
