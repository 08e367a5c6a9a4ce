import { describeStorage } from "@vdirsyncer/storage-test-suite";
import { serverCases } from "@vdirsyncer/test-servers/vitest";
import carddav from "../src/index.ts";

// Every test creates its own address book (the suite calls createCollection with a random id), so one server
// per project is enough. Known failures are per server, with the version they were seen on.
const XANDIKOS_REMOVE =
  "Xandikos 0.2.8 answers 500 to a PROPPATCH that removes a property (AttributeError in its handler)";
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
};

for (const server of serverCases()) {
  describeStorage(carddav, {
    name: `carddav on ${server.name}`,
    options: () => ({ ...server.options }),
    knownFailures: KNOWN_FAILURES[server.name] ?? {},
  });
}
