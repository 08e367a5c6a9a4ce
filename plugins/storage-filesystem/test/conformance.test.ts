import { join } from "node:path";
import { describeStorage, freshDir } from "@vdirsyncer/storage-test-suite";
import filesystem from "../src/index.ts";

// A location that does not exist yet: the suite checks that open() never creates it.
describeStorage(filesystem, {
  options: async () => ({ path: join(await freshDir(), "calendars"), fileext: ".ics" }),
});
