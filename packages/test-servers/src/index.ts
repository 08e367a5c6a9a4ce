export { startCyrus } from "./cyrus.ts";
export { startDavical } from "./davical.ts";
export { freePort, requireBinary } from "./process.ts";
export {
  countItems,
  type SeedItem,
  type SeedResult,
  type SeedTarget,
  sampleContact,
  sampleEvent,
  seedCollection,
  seedRadicaleCollection,
  seedXandikosCollection,
} from "./seed.ts";
export {
  type Account,
  authHeaders,
  type RadicaleOptions,
  SERVER_KINDS,
  type ServerKind,
  type StartOptions,
  startRadicale,
  startServer,
  startXandikos,
  type TestServer,
} from "./servers.ts";
