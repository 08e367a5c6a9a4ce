import { join } from "node:path";
import { describeStorage, freshDir } from "@vdirsyncer/storage-test-suite";
import json from "../src/index.ts";

// With createCollection declared, every test starts from a file that does not exist yet.
describeStorage(json, { options: async () => ({ path: join(await freshDir(), "calendar.json") }) });
