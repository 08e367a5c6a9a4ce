/**
 * khard reads the vdir our built command wrote, and the contacts khard creates, edits and removes sync back.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { describeRun, ensureBuilt, type Ran, requireTool, Sandbox } from "./built-bin.ts";

let khard: string;
let box: Sandbox;

beforeAll(() => {
  khard = requireTool("khard");
  ensureBuilt();
  box = new Sandbox("vdirsyncer-khard-");
}, 300_000);

afterAll(() => box?.dispose());

const CRLF = (lines: string[]) => `${lines.join("\r\n")}\r\n`;

/** One .vcf file with vCard 3.0 and 4.0 contacts, non-ASCII names and several addresses each. */
const CONTACTS = CRLF([
  "BEGIN:VCARD",
  "VERSION:3.0",
  "UID:juergen@interop",
  "FN:Jürgen Müller",
  "N:Müller;Jürgen;;;",
  "EMAIL;TYPE=work:juergen@firma.example",
  "EMAIL;TYPE=home:jm@example.org",
  "END:VCARD",
  "BEGIN:VCARD",
  "VERSION:4.0",
  "UID:zoe@interop",
  "FN:Zoë Øster",
  "N:Øster;Zoë;;;",
  "EMAIL;TYPE=work:zoe@firma.example",
  "EMAIL;TYPE=home:zoe@example.net",
  "END:VCARD",
  "BEGIN:VCARD",
  "VERSION:3.0",
  "UID:chen@interop",
  "FN:陈静",
  "N:陈;静;;;",
  "EMAIL;TYPE=work:chen@example.cn",
  "END:VCARD",
  "BEGIN:VCARD",
  "VERSION:4.0",
  "UID:olafur@interop",
  "FN:Ólafur Þórðarson",
  "N:Þórðarson;Ólafur;;;",
  "EMAIL;TYPE=home:olafur@example.is",
  // A folded line: the note is longer than 75 octets.
  "NOTE:Hann býr í Reykjavík og vinnur hjá fyrirtæki sem smíðar hugbúnað fyrir dagat",
  " öl og tengiliði.",
  "END:VCARD",
]);

const CONFIG = `[general]
status_path = "~/.local/share/vdirsyncer/status/"

[pair contacts]
a = "file"
b = "vdir"
collections = null

[storage file]
type = "singlefile"
path = "~/contacts.vcf"

[storage vdir]
type = "filesystem"
path = "~/contacts/friends/"
fileext = ".vcf"
`;

const KHARD_CONFIG = (vdir: string) => `[addressbooks]
[[friends]]
path = ${vdir}

[general]
default_action = list
editor = /bin/false
merge_editor = /bin/false

[contact table]
display = formatted_name
sort = last_name
`;

/** Runs a command that must succeed. */
function ok(r: Ran): Ran {
  expect(r.code, describeRun(r)).toBe(0);
  return r;
}

/** Our log lines that copy or delete an item. */
function transfers(r: Ran): string[] {
  return r.stderr
    .split("\n")
    .filter((l) => /^(Copying|Deleting)/.test(l))
    .sort();
}

/** khard's contacts: "uid<TAB>name", sorted. */
function khardList(): string[] {
  const out = ok(box.run(khard, ["list", "--parsable"])).stdout;
  return out
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\t").slice(0, 2).join("\t"))
    .sort();
}

/** khard's addresses: "address<TAB>name<TAB>type", sorted. */
function khardEmails(): string[] {
  const out = ok(box.run(khard, ["email", "--parsable", "--remove-first-line"])).stdout;
  return out
    .split("\n")
    .filter((l) => l !== "")
    .sort();
}

describe("khard", () => {
  test("lists every contact we synced from a single .vcf; its new, edited and removed contacts sync back", () => {
    box.write(".config/vdirsyncer/config", CONFIG);
    box.write(".config/khard/khard.conf", KHARD_CONFIG(box.path("contacts", "friends")));
    box.write("contacts.vcf", CONTACTS);
    box.write("contacts/friends/.keep", "");

    ok(box.ours(["discover"]));
    const first = ok(box.ours(["sync"]));
    const uids = ["juergen@interop", "zoe@interop", "chen@interop", "olafur@interop"];
    expect(transfers(first)).toEqual(uids.map((u) => `Copying (uploading) item ${u} to vdir`).sort());
    expect(box.files("contacts/friends").filter((f) => f.endsWith(".vcf"))).toHaveLength(4);

    expect(khardList()).toEqual(
      [
        "juergen@interop\tJürgen Müller",
        "zoe@interop\tZoë Øster",
        "chen@interop\t陈静",
        "olafur@interop\tÓlafur Þórðarson",
      ].sort(),
    );
    expect(khardEmails()).toEqual(
      [
        "juergen@firma.example\tJürgen Müller\twork",
        "jm@example.org\tJürgen Müller\thome",
        "zoe@firma.example\tZoë Øster\twork",
        "zoe@example.net\tZoë Øster\thome",
        "chen@example.cn\t陈静\twork",
        "olafur@example.is\tÓlafur Þórðarson\thome",
      ].sort(),
    );
    // The unfolded note survived the split.
    const olafur = ok(box.run(khard, ["show", "uid:olafur@interop"])).stdout;
    expect(olafur).toContain("fyrir dagatöl og tengiliði.");

    // khard creates one contact (from a template on stdin), edits another and removes a third.
    const before = box.files("contacts/friends");
    ok(
      box.run(khard, ["new", "-a", "friends"], {
        input:
          "First name : Åsa\nLast name : Ström\nEmail :\n    work : asa@example.se\n    home : asa@hemma.example\n",
      }),
    );
    const created = box.files("contacts/friends").filter((f) => !before.includes(f));
    expect(created).toHaveLength(1);
    const newUid = /^UID:(.*?)\r?$/m.exec(box.read(`contacts/friends/${created[0]}`))?.[1];
    expect(newUid).toBeTruthy();

    const template = ok(box.run(khard, ["show", "--format", "yaml", "uid:chen@interop"])).stdout;
    expect(template).toContain("chen@example.cn");
    box.write("chen.yaml", template.replace("chen@example.cn", "jing.chen@example.cn"));
    // khard asks before it writes; the answer comes on stdin.
    ok(box.run(khard, ["edit", "-i", box.path("chen.yaml"), "uid:chen@interop"], { input: "y\n" }));
    ok(box.run(khard, ["remove", "--force", "uid:zoe@interop"]));

    const back = ok(box.ours(["sync"]));
    expect(transfers(back)).toEqual(
      [
        `Copying (uploading) item ${newUid} to file`,
        "Copying (updating) item chen@interop to file",
        "Deleting item zoe@interop from file",
      ].sort(),
    );
    const single = box.read("contacts.vcf");
    expect(single.match(/BEGIN:VCARD/g)).toHaveLength(4);
    expect(single).toContain("FN:Åsa Ström");
    expect(single).toContain("asa@hemma.example");
    expect(single).toContain("jing.chen@example.cn");
    expect(single).not.toContain(":chen@example.cn\r\n");
    expect(single).not.toContain("Zoë");
    // The contacts khard did not touch are byte for byte what we wrote.
    expect(single).toContain(CONTACTS.slice(0, CONTACTS.indexOf("BEGIN:VCARD", 10)));

    expect(transfers(ok(box.ours(["sync"])))).toEqual([]);
    expect(khardList()).toHaveLength(4);
  }, 120_000);
});
