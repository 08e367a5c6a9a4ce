/**
 * The suite catches the mistakes plugin authors made: each flawed variant of one small file-backed plugin runs the
 * whole suite, and the tests it must fail are listed as known failures. A listed test that passes, or an unlisted
 * one that fails, fails this run; so these lists are exactly what the suite finds.
 */
import { join } from "node:path";
import { describeStorage, freshDir } from "../src/index.ts";
import { defineFolderPlugin } from "./fixtures/folder-plugin.ts";

const fresh = async () => ({ path: join(await freshDir(), "calendars") });

describeStorage(defineFolderPlugin("none"), { name: "folder plugin (correct)", options: fresh });

describeStorage(defineFolderPlugin("opens by href"), {
  name: "folder plugin opening ref.href",
  options: fresh,
  knownFailures: {
    "collections opened by the refs createCollection() returned, in a new instance, keep their items apart":
      "after the JSON round trip there is no href: every collection opens the configured folder",
    "collections opened by the refs discover() returned, in a new instance, keep their items apart":
      "after the JSON round trip there is no href: every collection opens the configured folder",
    "discover() yields at least the collections createCollection() made, each once":
      "every collection it opens is the configured folder",
    "two collections of one instance written in parallel (12 uploads) keep their items apart":
      "both collections write into the configured folder",
    "open() of a collection never created throws CollectionNotFoundError until createCollection() makes it":
      "it creates what it opens",
    "open(null) of a location that does not exist throws CollectionNotFoundError until createCollection(null) makes it":
      "it creates what it opens",
  },
});

describeStorage(defineFolderPlugin("missing is empty"), {
  name: "folder plugin reading a missing location as empty",
  options: fresh,
  knownFailures: {
    "open() of a collection never created throws CollectionNotFoundError until createCollection() makes it":
      "open() creates the folder",
    "open(null) of a location that does not exist throws CollectionNotFoundError until createCollection(null) makes it":
      "open() creates the folder",
  },
});

describeStorage(defineFolderPlugin("unsafe concurrency"), {
  name: "folder plugin declaring concurrency 4 over one rewritten file",
  options: fresh,
  knownFailures: {
    "12 parallel upload(), then update(), then delete() calls through the host lose no write":
      "four writes read the same file and the last rename wins",
    "two collections of one instance written in parallel (12 uploads) keep their items apart":
      "two writes per file at once: the last rename wins",
  },
});
