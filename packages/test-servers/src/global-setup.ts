import { setupServers } from "./vitest.ts";

/** vitest `globalSetup` entry: starts Radicale, Xandikos, Cyrus and DAViCal once per run (see {@link setupServers}). */
export default setupServers;
