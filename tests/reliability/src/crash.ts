/**
 * The crash harness: the real command is killed (SIGKILL by default) at a random moment of a first sync, an
 * upload, a mixed change, a metasync or a discover, on vdir ↔ vdir and vdir ↔ Radicale; then a normal run,
 * and a count of what was lost, duplicated or left different, and of runs that would need a human.
 *
 * Each kind prepares its world once (seed, discover, maybe a first sync, then the changes to sync) and
 * snapshots it; every kill restores the snapshot in place (same paths, so the status stays valid), kills the
 * command after a random delay counted from its first output line (start-up is not interesting), runs the
 * recovery and checks.
 */
import { cpSync, existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { TestServer } from "@vdirsyncer/test-servers";
import { describeRan, type Ran } from "./command.ts";
import { byUid, event, hashOf, readFolder, type Side, type Tally, tally } from "./items.ts";
import { newUser, type RadicaleUser } from "./radicale.ts";
import { listTree, World } from "./world.ts";

export type Backend = "vdir" | "radicale";
export type Op = "first-sync" | "upload" | "mixed" | "metasync" | "discover";

/** Every kind the harness runs, in report order. */
export const KINDS: readonly { op: Op; backend: Backend }[] = (
  ["first-sync", "upload", "mixed", "metasync", "discover"] as const
).flatMap((op) => (["vdir", "radicale"] as const).map((backend) => ({ op, backend })));

/**
 * Operations that cannot be crash-tested yet because the command does not have them. When it does, add an
 * Op whose `prepare` sets up a trash entry (or a finished sync to undo) and whose killed run is the command.
 */
export const PENDING_OPS: readonly string[] = ["trash restore", "undo"];

/** How the run after a kill ended. */
export type Recovery = "ok" | "stale lock" | "status broken" | "false conflict" | "other error";

/** What one kill did. */
export interface KillResult extends Tally {
  /** Milliseconds after the first output line when the kill was due. */
  delayMs: number;
  /** The command had already exited when the kill was due. */
  finishedFirst: boolean;
  recovery: Recovery;
  /** Temporary files or folders still there after the recovery run. */
  tempLeft: string[];
  /** The recovery's output when it failed. */
  recoveryOutput?: string;
}

/** Sizes of one kind's world. */
export interface CrashOptions {
  /** Items per collection side. Default 200 on vdirs, 60 on Radicale. */
  items?: number;
  /** The signal that "crashes" the command. Default SIGKILL. */
  signal?: NodeJS.Signals;
  /** A random number source in [0, 1); default Math.random. */
  random?: () => number;
}

const COLL = "c1";
const COLL2 = "c2";

function config(backend: Backend, user: RadicaleUser | undefined): string {
  const b =
    backend === "vdir"
      ? `type = "filesystem"\npath = "{root}/b/"\nfileext = ".ics"`
      : `type = "caldav"\nurl = "${user?.url}"\nusername = "${user?.username}"\npassword = "${user?.password}"`;
  return `[general]
status_path = "{root}/status/"

[pair p]
a = "a"
b = "b"
collections = ["from a", "from b"]
metadata = ["color", "displayname"]

[storage a]
type = "filesystem"
path = "{root}/a/"
fileext = ".ics"

[storage b]
${b}
`;
}

/** Answers for every question discover may ask. */
const YES = "y\n".repeat(20);

/** The temporary files a killed run can leave: `.<name>.<random>.tmp` item files, `.tmp-PID-N` trash folders. */
export function isTempName(path: string): boolean {
  return path.split("/").some((seg) => /\.tmp$|^\.tmp-|\.tmp-\d/.test(seg));
}

/** Classifies a finished run that should have succeeded. */
export function classify(r: Ran): Recovery {
  if (r.code === 0) return "ok";
  const text = r.stderr + r.stdout;
  if (/\block(ed)?\b|lock file/i.test(text)) return "stale lock";
  if (/both sides|conflict/i.test(text)) return "false conflict";
  if (/status|sqlite|database|malformed/i.test(text)) return "status broken";
  return "other error";
}

/** One kind of crash, its world and its snapshot. */
export class CrashKind {
  readonly op: Op;
  readonly backend: Backend;
  readonly world: World;
  readonly user: RadicaleUser | undefined;
  readonly items: number;
  readonly signal: NodeJS.Signals;
  readonly random: () => number;
  /** UID → the versions it may have after convergence. */
  expected = new Map<string, string[]>();
  /** UIDs deleted on one side, which must be gone from both. */
  deleted = new Set<string>();
  /** Metadata both sides must end with (metasync). */
  expectedMeta: Record<string, string> = {};
  /** Milliseconds from the first output line to the exit of an unkilled run. */
  windowMs = 0;
  /** The unkilled run's full duration. */
  fullMs = 0;

  constructor(op: Op, backend: Backend, server: TestServer | undefined, options: CrashOptions = {}) {
    this.op = op;
    this.backend = backend;
    if (backend === "radicale" && server === undefined) throw new Error("A Radicale kind needs the server.");
    this.world = new World(`vdirsyncer-crash-${op}-${backend}-`);
    this.user = server === undefined || backend !== "radicale" ? undefined : newUser(server, "crash");
    this.items = options.items ?? (backend === "vdir" ? 200 : 60);
    this.signal = options.signal ?? "SIGKILL";
    this.random = options.random ?? Math.random;
  }

  get name(): string {
    return `${this.op} vdir ↔ ${this.backend === "vdir" ? "vdir" : "Radicale"}`;
  }

  /** The b side's folder of a collection (the vdir, or Radicale's storage folder). */
  bFolder(coll = COLL): string {
    return this.user === undefined ? this.world.path("b", coll) : this.user.folder(coll);
  }

  sides(coll = COLL): { a: Side; b: Side } {
    return { a: readFolder(this.world.path("a", coll)), b: readFolder(this.bFolder(coll)) };
  }

  /** The killed operation's arguments and stdin. */
  #killed(): { args: string[]; input: string } {
    if (this.op === "metasync") return { args: ["metasync"], input: "" };
    if (this.op === "discover") return { args: ["discover"], input: YES };
    return { args: ["sync"], input: "" };
  }

  async #must(args: string[], input = ""): Promise<Ran> {
    const r = await this.world.run(args, { input });
    if (r.code !== 0)
      throw new Error(`${this.name}: preparing with ${args.join(" ")} failed: ${describeRan(r)}`);
    return r;
  }

  #writeA(coll: string, uid: string, text: string): void {
    this.world.write(join("a", coll, `${uid}.ics`), text);
  }

  /** Writes an item to b's folder: a vdir file, or a file in Radicale's storage (another program editing it). */
  #writeB(coll: string, name: string, text: string): void {
    writeFileSync(join(this.bFolder(coll), name), text);
  }

  #expect(uid: string, text: string): void {
    this.expected.set(uid, [hashOf(text)]);
  }

  /** Seeds, runs the preparing commands and takes the snapshot every kill starts from. */
  async setup(): Promise<void> {
    this.world.writeConfig(config(this.backend, this.user));
    const n = this.items;
    const half = Math.max(1, Math.floor(n / 2));
    const seedB = (coll: string, items: { uid: string; text: string }[]) => {
      if (this.user === undefined)
        for (const it of items) this.world.write(join("b", coll, `${it.uid}.ics`), it.text);
      else
        this.user.seed(
          coll,
          items.map((it) => ({ name: `${it.uid}.ics`, text: it.text })),
        );
    };
    const gen = (prefix: string, count: number, tag = "v1") =>
      Array.from({ length: count }, (_, i) => {
        const uid = `${prefix}-${i}`;
        return { uid, text: event(uid, `${uid} ${tag}`) };
      });
    if (this.user === undefined) this.world.write("b/.keep", "");
    if (this.op === "discover") {
      for (const coll of [COLL, COLL2]) {
        for (const it of gen(`${coll}a`, half)) this.#writeA(coll, it.uid, it.text);
      }
    } else {
      const aItems = gen("a", this.op === "first-sync" ? half : n);
      for (const it of aItems) this.#writeA(COLL, it.uid, it.text);
      const bItems = this.op === "first-sync" ? gen("b", half) : [];
      seedB(COLL, bItems);
      for (const it of [...aItems, ...bItems]) this.#expect(it.uid, it.text);
      await this.#must(["discover"], YES);
      if (this.op === "upload" || this.op === "mixed" || this.op === "metasync") await this.#must(["sync"]);
      if (this.op === "upload") {
        for (const it of gen("new", half)) {
          this.#writeA(COLL, it.uid, it.text);
          this.#expect(it.uid, it.text);
        }
      }
      if (this.op === "mixed") this.#mix();
      if (this.op === "metasync") {
        this.expectedMeta = { displayname: `Work ${Date.now()}`, color: "#ff8800" };
        for (const [k, v] of Object.entries(this.expectedMeta)) this.world.write(join("a", COLL, k), v);
      }
    }
    this.#snapshot();
  }

  /** Changes on both sides, disjoint: 10% edited, 5% deleted, 5% added on each. */
  #mix(): void {
    const n = this.items;
    const tenth = Math.max(1, Math.floor(n / 10));
    const twentieth = Math.max(1, Math.floor(n / 20));
    const bSide = readFolder(this.bFolder());
    const bFile = new Map<string, string>();
    for (const [name, raw] of bSide) if (raw !== null) bFile.set(byUidOne(raw, name), name);
    let i = 0;
    for (let k = 0; k < tenth; k++, i++) {
      const uid = `a-${i}`;
      const text = event(uid, `${uid} edited on a`);
      this.#writeA(COLL, uid, text);
      this.#expect(uid, text);
    }
    for (let k = 0; k < tenth; k++, i++) {
      const uid = `a-${i}`;
      const text = event(uid, `${uid} edited on b`);
      this.#writeB(COLL, bFile.get(uid) ?? `${uid}.ics`, text);
      this.#expect(uid, text);
    }
    for (let k = 0; k < twentieth; k++, i++) {
      const uid = `a-${i}`;
      unlinkSync(this.world.path("a", COLL, `${uid}.ics`));
      this.expected.delete(uid);
      this.deleted.add(uid);
    }
    for (let k = 0; k < twentieth; k++, i++) {
      const uid = `a-${i}`;
      unlinkSync(join(this.bFolder(), bFile.get(uid) ?? `${uid}.ics`));
      this.expected.delete(uid);
      this.deleted.add(uid);
    }
    for (let k = 0; k < twentieth; k++) {
      const ua = `mixa-${k}`;
      const ta = event(ua, `${ua} added on a`);
      this.#writeA(COLL, ua, ta);
      this.#expect(ua, ta);
      const ub = `mixb-${k}`;
      const tb = event(ub, `${ub} added on b`);
      this.#writeB(COLL, `${ub}.ics`, tb);
      this.#expect(ub, tb);
    }
  }

  #snapshot(): void {
    for (const p of ["a", "b", "status"]) {
      if (existsSync(this.world.path(p))) this.world.copy(p, join("snap", p));
    }
    if (this.user !== undefined) {
      const dir = join(this.user.server.dataDir, "collections", "collection-root", this.user.username);
      rmSync(this.world.path("snap", "server"), { recursive: true, force: true });
      if (existsSync(dir)) cpSync(dir, this.world.path("snap", "server"), { recursive: true });
    }
  }

  /** Puts the world (and the user's server folder) back as the snapshot has it. */
  restore(): void {
    for (const p of ["a", "b", "status"]) {
      rmSync(this.world.path(p), { recursive: true, force: true });
      if (existsSync(this.world.path("snap", p))) this.world.copy(join("snap", p), p);
    }
    if (this.user !== undefined) {
      const dir = join(this.user.server.dataDir, "collections", "collection-root", this.user.username);
      rmSync(dir, { recursive: true, force: true });
      if (existsSync(this.world.path("snap", "server")))
        cpSync(this.world.path("snap", "server"), dir, { recursive: true });
    }
  }

  /** The metadata a side holds (vdir files, or Radicale's stored properties). */
  meta(side: "a" | "b"): Record<string, string> {
    const out: Record<string, string> = {};
    if (side === "a" || this.user === undefined) {
      for (const k of ["displayname", "color"]) {
        const p = this.world.path(side, COLL, k);
        if (existsSync(p)) out[k] = readFileSync(p, "utf8").trim();
      }
      return out;
    }
    const props = this.user.props(COLL);
    if (props["D:displayname"] !== undefined) out.displayname = props["D:displayname"];
    if (props["ICAL:calendar-color"] !== undefined) out.color = props["ICAL:calendar-color"];
    return out;
  }

  /** Counts what is wrong now. */
  check(): Tally {
    if (this.op === "metasync") {
      const a = this.meta("a");
      const b = this.meta("b");
      const t: Tally = { lost: 0, duplicated: 0, different: 0, resurrected: 0, details: [] };
      for (const [k, v] of Object.entries(this.expectedMeta)) {
        if (a[k] !== v && b[k] !== v) {
          t.lost++;
          t.details.push(`${k}: ${JSON.stringify(v)} on neither side`);
        } else if (a[k] !== b[k]) {
          t.different++;
          t.details.push(`${k}: a ${JSON.stringify(a[k])}, b ${JSON.stringify(b[k])}`);
        }
      }
      return t;
    }
    if (this.op === "discover") {
      const total: Tally = { lost: 0, duplicated: 0, different: 0, resurrected: 0, details: [] };
      for (const coll of [COLL, COLL2]) {
        const { a, b } = this.sides(coll);
        const expected = new Map<string, string[]>();
        for (let i = 0; i < Math.max(1, Math.floor(this.items / 2)); i++) {
          const uid = `${coll}a-${i}`;
          expected.set(uid, [hashOf(event(uid, `${uid} v1`))]);
        }
        const t = tally(a, b, expected);
        total.lost += t.lost;
        total.duplicated += t.duplicated;
        total.different += t.different;
        total.resurrected += t.resurrected;
        total.details.push(...t.details.map((d) => `${coll}: ${d}`));
      }
      return total;
    }
    const { a, b } = this.sides();
    return tally(a, b, this.expected, this.deleted);
  }

  /** Our temporary files under the vdirs and the status folder (the server's own are its business). */
  tempFiles(): string[] {
    const roots = [this.world.path("a"), this.world.path("b"), this.world.path("status")];
    return roots.flatMap((r) =>
      listTree(r)
        .filter(isTempName)
        .map((p) => `${basename(r)}/${p}`),
    );
  }

  /** Runs what a user runs after a crash: the same command again, normally (discover: then a sync). */
  async recover(): Promise<Ran> {
    const k = this.#killed();
    const first = await this.world.run(k.args, { input: k.input });
    if (first.code !== 0 || this.op !== "discover") return first;
    return this.world.run(["sync"]);
  }

  /**
   * Times an unkilled run of the operation from the snapshot and checks that it converges; the kills are
   * spread over its window.
   * @throws Error when an unkilled run does not converge (then every kill result would be meaningless)
   */
  async calibrate(): Promise<void> {
    this.restore();
    const k = this.#killed();
    const r = await this.world.run(k.args, { input: k.input });
    const done = this.op === "discover" && r.code === 0 ? await this.world.run(["sync"]) : r;
    this.fullMs = r.ms;
    this.windowMs = Math.max(50, r.ms - (r.firstOutputMs ?? 0));
    const t = this.check();
    if (done.code !== 0 || t.lost + t.duplicated + t.different + t.resurrected > 0) {
      throw new Error(
        `${this.name}: an unkilled run does not converge (${JSON.stringify(t)}): ${describeRan(done)}`,
      );
    }
  }

  /** One kill: restore, kill at a random moment, recover, check. */
  async kill(): Promise<KillResult> {
    this.restore();
    const k = this.#killed();
    const delayMs = Math.round(this.random() * this.windowMs * 1.05);
    const killed = await this.world.run(k.args, {
      input: k.input,
      killAt: { ms: delayMs, signal: this.signal },
    });
    const rec = await this.recover();
    const recovery = classify(rec);
    const t = this.check();
    const result: KillResult = {
      ...t,
      delayMs,
      finishedFirst: !killed.killed,
      recovery,
      tempLeft: this.tempFiles(),
    };
    if (recovery !== "ok") result.recoveryOutput = `${rec.stderr}${rec.stdout}`.slice(-2000);
    return result;
  }

  dispose(): void {
    if (this.user !== undefined) {
      rmSync(join(this.user.server.dataDir, "collections", "collection-root", this.user.username), {
        recursive: true,
        force: true,
      });
    }
    this.world.dispose();
  }
}

function byUidOne(raw: string, name: string): string {
  const [uid] = byUid(new Map([[name, raw]])).keys();
  return uid ?? name;
}

/** The totals of one kind over many kills. */
export interface KindSummary {
  kind: string;
  op: Op;
  backend: Backend;
  kills: number;
  /** Kills due after the command had already exited (they test nothing, but are counted honestly). */
  finishedFirst: number;
  lost: number;
  duplicated: number;
  different: number;
  resurrected: number;
  needHuman: number;
  /** Recoveries by outcome, when not ok. */
  recoveries: Partial<Record<Recovery, number>>;
  /** Kills after which temporary files were left (after the recovery run). */
  tempLeftRuns: number;
  /** The first few problems, for the report. */
  examples: string[];
  /** Milliseconds the unkilled run took, and its window after the first output line. */
  fullMs: number;
  windowMs: number;
}

/** Adds one kill to a summary. */
export function addKill(s: KindSummary, r: KillResult): void {
  s.kills++;
  if (r.finishedFirst) s.finishedFirst++;
  s.lost += r.lost;
  s.duplicated += r.duplicated;
  s.different += r.different;
  s.resurrected += r.resurrected;
  if (r.recovery !== "ok") {
    s.needHuman++;
    s.recoveries[r.recovery] = (s.recoveries[r.recovery] ?? 0) + 1;
  }
  if (r.tempLeft.length > 0) s.tempLeftRuns++;
  const problems = [
    ...r.details,
    ...(r.recovery === "ok" ? [] : [`recovery: ${r.recovery}: ${lastLines(r.recoveryOutput ?? "", 3)}`]),
    ...(r.tempLeft.length > 0 ? [`left: ${r.tempLeft.slice(0, 3).join(", ")}`] : []),
  ];
  for (const p of problems) {
    if (s.examples.length < 6) s.examples.push(`kill at +${r.delayMs} ms: ${p}`);
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join(" | ");
}

/** An empty summary for a kind. */
export function emptySummary(k: CrashKind): KindSummary {
  return {
    kind: k.name,
    op: k.op,
    backend: k.backend,
    kills: 0,
    finishedFirst: 0,
    lost: 0,
    duplicated: 0,
    different: 0,
    resurrected: 0,
    needHuman: 0,
    recoveries: {},
    tempLeftRuns: 0,
    examples: [],
    fullMs: Math.round(k.fullMs),
    windowMs: Math.round(k.windowMs),
  };
}
