import { setupServers } from "./vitest.ts";

/** vitest `globalSetup` entry: starts Radicale and Xandikos once per project (see {@link setupServers}). */
export default setupServers;
