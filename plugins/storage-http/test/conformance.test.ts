import { joinCollection } from "@vdirsyncer/core";
import { describeStorage } from "@vdirsyncer/storage-test-suite";
import { afterAll } from "vitest";
import http from "../src/index.ts";
import { serveFeed, startFeedServer } from "./feed-server.ts";

// One local server for the whole suite; each test gets a route of its own, so no test sees another's feed.
const server = await startFeedServer();
afterAll(() => server.close());
let n = 0;

/** Serves `text` at a fresh path and returns its URL. */
function feedAt(text: string): string {
  const path = `/feed-${++n}.ics`;
  server.route(
    path,
    serveFeed(() => text),
  );
  return server.url(path);
}

describeStorage(http, {
  options: () => ({
    url: feedAt("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//empty//EN\r\nEND:VCALENDAR\r\n"),
  }),
  seed: (items) => ({ url: feedAt(joinCollection(items)) }),
});
