import { join } from "node:path";
import { describeStorage, freshDir } from "@vdirsyncer/storage-test-suite";
import json from "../src/index.ts";

describeStorage(json, { options: async () => ({ path: join(await freshDir(), "calendar.json") }) });
