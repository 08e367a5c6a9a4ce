import { randomUUID } from "node:crypto";
import { describeStorage } from "@vdirsyncer/storage-test-suite";
import { serverCases, testServers } from "@vdirsyncer/test-servers/vitest";
import carddav from "../src/index.ts";

// Every test creates its own address book (the suite calls createCollection with a random id), so one server
// set per run is enough. Known failures are per server, with the version they were seen on.
const XANDIKOS_REMOVE =
  "Xandikos 0.2.8 answers 500 to a PROPPATCH that removes a property (AttributeError in its handler)";
const DAVICAL_REMOVE =
  'DAViCal 1.1.12 refuses to remove DAV:displayname (PROPPATCH <remove>: 409 "Property is read-only"); ' +
  "setting it to an empty value is accepted";
// The suite's odd collection id "test @ foo ät bar" becomes a percent-encoded URL segment.
const CYRUS_PERCENT =
  "Cyrus 3.6.1 refuses percent-encoded collection names (MKCOL 403 addressbook-collection-location-ok, " +
  '"Percent encoded HTTP URLs are in theory valid, but in practice not supported")';
// The displayname both servers make up for a collection without one (Radicale: its path, Xandikos: its name)
// reads as unset in @vdirsyncer/dav, so "getMeta() of a fresh collection returns undefined" passes on both.
const KNOWN_FAILURES: Record<string, Record<string, string>> = {
  radicale: {
    "upload() and get() round-trip a UID that is absent (the ident is the hash)":
      "Radicale 3.1.8 refuses a component without UID (400)",
    "upload() and get() round-trip a UID .":
      'Radicale 3.1.8 refuses the href "..vcf" (400, "Can\'t translate name safely to filesystem")',
    "upload() and get() round-trip a UID of 300 characters":
      "Radicale 3.1.8 stores the href as a file name and fails with ENAMETOOLONG (400)",
  },
  xandikos: {
    "upload() and get() round-trip a UID .":
      'Xandikos 0.2.8 guesses getcontenttype from the name and says application/octet-stream for "..vcf", ' +
      "so the listing (vdirsyncer's content-type filter) skips it",
    "upload() and get() round-trip a UID of 300 characters":
      "Xandikos 0.2.8 stores the href as a file name in its git tree and answers 500 (name too long)",
    "setMeta() round-trips a color, and setMeta(undefined) removes it": XANDIKOS_REMOVE,
    "getMeta() returns what setMeta() wrote, normalised": XANDIKOS_REMOVE,
  },
  cyrus: {
    "upload() and get() round-trip a UID that is absent (the ident is the hash)":
      'Cyrus 3.6.1 refuses a vCard without UID (403 valid-address-data, "Missing mandatory UID property")',
    'createCollection() accepts the id "test @ foo ät bar" and its items round-trip': CYRUS_PERCENT,
    "createCollection() returns a config that is JSON, never names `collection`, and the schema accepts over the options":
      CYRUS_PERCENT,
  },
  davical: {
    "upload() and get() round-trip a UID that is absent (the ident is the hash)":
      "DAViCal 1.1.12 stores a vCard without UID with a UID of its own added, so get() finds a UID",
    // The address book has only a displayname, so the color test removes a displayname too.
    "setMeta() round-trips a color, and setMeta(undefined) removes it": DAVICAL_REMOVE,
    "getMeta() returns what setMeta() wrote, normalised": DAVICAL_REMOVE,
    "changes() with an unknown token throws SyncTokenExpiredError":
      "DAViCal 1.1.12 answers an unknown or garbage sync token with a full listing (207), not 403 valid-sync-token",
  },
};

// Server-specific timeouts, for tests that are slow on one server only; every other test keeps the default.
// DAViCal runs on PHP's built-in server here: 4 workers, a new connection per request (Connection: close, so the
// storage lowers its concurrency to 4) and PHP + PostgreSQL per request. Measured on the 2-core test machine
// under load: one PUT 250-440 ms alone, 48 PUTs at once 5.7-7.0 s (120-145 ms each); the parallel writes test
// (48 uploads, updates and deletes, each step listed and read back, about 300 requests) took 16.6 s (caldav) and
// 25.0 s (carddav), and passed 30 s in earlier runs. No request hangs: the server is slow, not stuck.
const DAVICAL_PARALLEL_MS = 90_000;
const TIMEOUTS: Record<string, Record<string, number>> = {
  davical: {
    "parallel writes > 48 parallel upload(), then update(), then delete() calls through the host lose no write":
      DAVICAL_PARALLEL_MS,
    "parallel writes > two collections of one instance written in parallel (48 uploads) keep their items apart":
      DAVICAL_PARALLEL_MS,
  },
};

const servers = testServers();
for (const server of serverCases()) {
  describeStorage(carddav, {
    name: `carddav on ${server.name}`,
    // The configured url is the account's server root, as users write it: discovery finds the home set from
    // there, and createCollection(id) creates below it. That root always exists, so the check of a missing
    // configured location gets a collection URL in the home that nothing created yet.
    options: () => ({ ...server.options }),
    missingLocation: () => ({
      ...server.options,
      url: `${servers[server.name].homes.addressbook}fresh-${randomUUID()}/`,
    }),
    knownFailures: KNOWN_FAILURES[server.name] ?? {},
    timeouts: TIMEOUTS[server.name] ?? {},
  });
}
