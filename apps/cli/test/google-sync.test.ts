/**
 * `google_calendar` and `google_contacts` end to end through the command, against the Google stand-in of
 * storage-google's tests (OAuth endpoints and Google-shaped DAV, proxied to a real Radicale account of this
 * test's own). The token files start authorised here, as after a first run; the first authorisation itself runs
 * through the built command in google-bin.test.ts.
 */
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENDPOINTS_ENV, GOOGLE_SCOPES } from "@vdirsyncer/storage-google";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { GoogleStandIn } from "../../../plugins/storage-google/test/stand-in.ts";
import { type Account, account, contact, event, RawDav } from "./dav-helpers.ts";
import { general, type World, world } from "./helpers.ts";

// The plugin reads the endpoints from the process environment (StorageContext carries no environment), so the
// variable is set for this file's worker and restored afterwards.
let previousEndpoints: string | undefined;
beforeAll(() => {
  previousEndpoints = process.env[ENDPOINTS_ENV];
});
afterAll(() => {
  if (previousEndpoints === undefined) delete process.env[ENDPOINTS_ENV];
  else process.env[ENDPOINTS_ENV] = previousEndpoints;
});

const standIns: GoogleStandIn[] = [];
afterEach(async () => {
  for (const s of standIns.splice(0)) await s.close();
});

/** A stand-in in front of a fresh Radicale account, with the endpoints variable pointing at it. */
async function google(): Promise<{ standIn: GoogleStandIn; acc: Account; dav: RawDav }> {
  const acc = await account("radicale");
  const standIn = await GoogleStandIn.start({
    url: acc.url,
    username: acc.username as string,
    password: acc.password as string,
  });
  standIns.push(standIn);
  process.env[ENDPOINTS_ENV] = JSON.stringify(standIn.endpoints);
  return { standIn, acc, dav: new RawDav(acc) };
}

/** A token file as the first authorisation leaves it (mode 0600). */
function authorised(w: World, standIn: GoogleStandIn, name: string, scope: string): string {
  const path = join(w.root, "tokens", name);
  mkdirSync(join(w.root, "tokens"), { recursive: true });
  writeFileSync(path, JSON.stringify(standIn.issueToken(scope)), { mode: 0o600 });
  return path;
}

/** Both Google pairs, as the storage-google README configures them. */
function googleConfig(w: World, standIn: GoogleStandIn, collections = '["from b"]'): void {
  w.writeConfig(`${general(w.root)}
[pair gcal]
a = "gcal_local"
b = "gcal_remote"
collections = ${collections}

[storage gcal_local]
type = "filesystem"
path = "{root}/calendars/"
fileext = ".ics"

[storage gcal_remote]
type = "google_calendar"
token_file = "{root}/tokens/calendar"
client_id = "${standIn.clientId}"
client_secret = "${standIn.clientSecret}"

[pair gcontacts]
a = "gcontacts_local"
b = "gcontacts_remote"
collections = ${collections}

[storage gcontacts_local]
type = "filesystem"
path = "{root}/contacts/"
fileext = ".vcf"

[storage gcontacts_remote]
type = "google_contacts"
token_file = "{root}/tokens/contacts"
client_id = "${standIn.clientId}"
client_secret = "${standIn.clientSecret}"
`);
}

test("discover and sync both ways with Google Calendar and Google Contacts; the second sync is a no-op", async () => {
  const { standIn, dav } = await google();
  await standIn.newCalendar("family");
  await standIn.newAddressBook("default");
  await dav.put("caldav", "family", "g1.ics", event("g1", "From Google"));
  await dav.put("carddav", "default", "c1.vcf", contact("c1", "Ada Google"));
  const w = world();
  const calendarToken = authorised(w, standIn, "calendar", GOOGLE_SCOPES.calendar);
  authorised(w, standIn, "contacts", GOOGLE_SCOPES.addressbook);
  googleConfig(w, standIn);

  const d = await w.run(["discover"], { stdin: "y\ny\n" });
  expect(d.code, d.stderr).toBe(0);
  // Radicale's made-up displayname comes through the stand-in, hence no exact line here.
  expect(d.stderr).toMatch(/^gcal_remote:\n {2}- "family"/m);
  expect(d.stderr).toContain('gcontacts_remote:\n  - "default"\n');
  expect(d.stderr).toContain('Saved for gcal: collections = ["family"]\n');
  expect(d.stderr).toContain('Saved for gcontacts: collections = ["default"]\n');
  // The test-only endpoints never go unnoticed, and are not repeated for every storage.
  expect(d.stderr.match(new RegExp(`^warning: ${ENDPOINTS_ENV} is set`, "gm"))).toHaveLength(1);

  const s = await w.run(["sync"]);
  expect(s.code, s.stderr).toBe(0);
  expect(s.stderr).toContain("Copying (uploading) item g1 to gcal_local/family\n");
  expect(s.stderr).toContain("Copying (uploading) item c1 to gcontacts_local/default\n");
  expect(w.read("calendars/family/g1.ics")).toContain("SUMMARY:From Google");
  expect(w.read("contacts/default/c1.vcf")).toContain("FN:Ada Google");

  // Local additions go up, through Google's paths, with the Bearer token.
  w.write("calendars/family/l1.ics", event("l1", "From the laptop"));
  w.write("contacts/default/l2.vcf", contact("l2", "Grace Laptop"));
  const up = await w.run(["sync"]);
  expect(up.code, up.stderr).toBe(0);
  expect(up.stderr).toContain("Copying (uploading) item l1 to gcal_remote/family\n");
  expect(up.stderr).toContain("Copying (uploading) item l2 to gcontacts_remote/default\n");
  expect(Object.values(await dav.items("caldav", "family")).join("")).toContain("SUMMARY:From the laptop");
  expect(Object.values(await dav.items("carddav", "default")).join("")).toContain("FN:Grace Laptop");
  const puts = standIn.seen.filter((r) => r.method === "PUT");
  expect(puts.map((r) => r.path.replace(/[^/]+$/, ""))).toEqual(
    expect.arrayContaining([
      "/caldav/v2/family/events/",
      `/carddav/v1/principals/${standIn.email}/lists/default/`,
    ]),
  );
  expect(puts.every((r) => r.authorized)).toBe(true);

  const seenBefore = standIn.seen.length;
  const again = await w.run(["sync"]);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).toBe("Syncing gcal/family\nSyncing gcontacts/default\n");
  expect(standIn.seen.slice(seenBefore).map((r) => r.method)).not.toContain("PUT");
  // The token file stays private.
  expect(statSync(calendarToken).mode & 0o777).toBe(0o600);
}, 120_000);

test("collections = null is refused with vdirsyncer's message", async () => {
  const { standIn } = await google();
  const w = world();
  authorised(w, standIn, "calendar", GOOGLE_SCOPES.calendar);
  authorised(w, standIn, "contacts", GOOGLE_SCOPES.addressbook);
  googleConfig(w, standIn, "null");
  w.write("calendars/.keep", "");
  w.write("contacts/.keep", "");
  const d = await w.run(["discover"]);
  expect(d.code).toBe(1);
  expect(d.stderr).toContain(
    'gcal_remote:\ncritical: One or more storages don\'t support `collections = null`. You probably want to set `collections = ["from a", "from b"]`.\n',
  );
  // As in vdirsyncer, nothing was saved, so sync asks for discover.
  const s = await w.run(["sync"]);
  expect(s.code).toBe(1);
  expect(s.stderr).toContain("critical: Please run `vdirsyncer discover gcal`  before synchronization.\n");
  expect(standIn.seen.filter((r) => r.method === "PUT" || r.method === "DELETE")).toEqual([]);
}, 60_000);

test("a revoked or expired refresh token says why (7 days in Testing) and how to fix it, exit 1", async () => {
  const { standIn, dav } = await google();
  await standIn.newCalendar("work");
  await dav.put("caldav", "work", "w1.ics", event("w1"));
  const w = world();
  authorised(w, standIn, "calendar", GOOGLE_SCOPES.calendar);
  authorised(w, standIn, "contacts", GOOGLE_SCOPES.addressbook);
  googleConfig(w, standIn);
  expect((await w.run(["discover"], { stdin: "y\ny\n" })).code).toBe(0);
  expect((await w.run(["sync", "gcal"])).code).toBe(0);

  standIn.expireAccessTokens();
  standIn.revoke();
  const r = await w.run(["sync", "gcal"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("invalid_grant");
  expect(r.stderr).toContain('which Google does after 7 days for apps whose publishing status is "Testing"');
  expect(r.stderr).toMatch(
    /^hint: Set the app's publishing status to "In production".* then delete \S+tokens\/calendar /m,
  );
  // Nothing local was touched, and no secret reached the output.
  expect(w.files("calendars/work")).toEqual(["w1.ics"]);
  expect(r.stderr).not.toContain(standIn.clientSecret);
}, 60_000);
