import { join } from "node:path";
import { describeStorage, freshDir } from "@vdirsyncer/storage-test-suite";
import template from "../src/index.ts";

// With createCollection declared, options() names a folder that does not exist yet: the suite creates it.
describeStorage(template, { options: async () => ({ path: join(await freshDir(), "collections") }) });
