import { testServers } from "@vdirsyncer/test-servers/vitest";

/** The two real servers the tests run against, with the options that reach each one's root. */
export interface ServerCase {
  name: "radicale" | "xandikos";
  options: { url: string; username?: string; password?: string };
}

/** Radicale (htpasswd auth) and Xandikos (no auth), as started by the global setup. */
export function serverCases(): ServerCase[] {
  const { radicale, xandikos } = testServers();
  const auth = (s: { username?: string; password?: string }) =>
    s.username !== undefined && s.password !== undefined
      ? { username: s.username, password: s.password }
      : {};
  return [
    { name: "radicale", options: { url: radicale.url, ...auth(radicale) } },
    { name: "xandikos", options: { url: xandikos.url, ...auth(xandikos) } },
  ];
}
