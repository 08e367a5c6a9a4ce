import { join } from "node:path";
import { describeStorage, freshDir } from "@vdirsyncer/storage-test-suite";
import singlefile from "../src/index.ts";

// As vdirsyncer's test_singlefile.py: one file per collection, named by the collection id.
describeStorage(singlefile, { options: async () => ({ path: join(await freshDir(), "%s.txt") }) });
