import { describeStorage, freshDir } from "@vdirsyncer/storage-test-suite";
import filesystem from "../src/index.ts";

describeStorage(filesystem, { options: async () => ({ path: await freshDir(), fileext: ".ics" }) });
