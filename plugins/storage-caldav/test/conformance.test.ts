import { describeStorage } from "@vdirsyncer/storage-test-suite";
import caldav from "../src/index.ts";
import { serverCases } from "./servers.ts";

// Every test creates its own calendar (the suite calls createCollection with a random id), so one server per
// project is enough. Known failures are per server, with the version they were seen on.
const RADICALE_DISPLAYNAME =
  'Radicale 3.1.8 reports the collection path (e.g. "user/test-…") as displayname when none is set';
const KNOWN_FAILURES: Record<string, Record<string, string>> = {
  radicale: {
    "upload() and get() round-trip a UID that is absent (the ident is the hash)":
      'Radicale 3.1.8 refuses a component without UID (400, "VEVENT component without UID in object")',
    "upload() and get() round-trip a UID .":
      'Radicale 3.1.8 refuses the href "..ics" (400, "Can\'t translate name safely to filesystem")',
    "upload() and get() round-trip a UID of 300 characters":
      "Radicale 3.1.8 stores the href as a file name and fails with ENAMETOOLONG (400)",
    "getMeta() of a fresh collection returns undefined": RADICALE_DISPLAYNAME,
    "getMeta() returns what setMeta() wrote, normalised": RADICALE_DISPLAYNAME,
  },
  xandikos: {},
};

for (const server of serverCases()) {
  describeStorage(caldav, {
    name: `caldav on ${server.name}`,
    options: () => ({ ...server.options }),
    knownFailures: KNOWN_FAILURES[server.name] ?? {},
  });
}
