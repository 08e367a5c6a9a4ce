/**
 * `vdirsyncer undo PAIR[/COLLECTION] [--force]`: brings back every version the last sync of each collection
 * overwrote or deleted, on the side it happened, through the storage; the status is left as the sync wrote it, so
 * the next sync carries the restored versions to the other side instead of deleting or overwriting them again.
 * Items the sync copied stay. What undo replaces goes to the trash too.
 */
import { type JournalRun, lastChange, listTrash, RunRecorder } from "@vdirsyncer/status";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { statusPath } from "../collections.ts";
import type { AppContext } from "../context.ts";
import { reportError } from "../errors.ts";
import {
  agreeToReplace,
  applyPutBack,
  lockPairs,
  type PutBack,
  type PutBackGroup,
  preparePutBack,
} from "../put-back.ts";
import { selectTargets, statusNameOf } from "../targets.ts";

/** The versions to put back to undo `run`, and what the run left in their place. */
function putBacksOf(ctx: AppContext, root: string, run: JournalRun): { wanted: PutBack[]; missing: number } {
  const kept = new Map(
    listTrash(root, { pair: run.pair, collection: run.collection }).map((e) => [e.id, e] as const),
  );
  const wanted: PutBack[] = [];
  let missing = 0;
  for (const action of run.actions) {
    if (action.result !== "done") continue;
    if (action.kind !== "update" && action.kind !== "delete" && action.kind !== "conflict") continue;
    for (const id of action.trash) {
      const entry = kept.get(id);
      if (!entry) {
        missing++;
        ctx.out.error(
          `${statusNameOf(run.pair, run.collection)}: the version of item ${action.ident} that run ${run.run} ${action.kind === "delete" ? "deleted" : "overwrote"} is no longer in the trash.`,
        );
        continue;
      }
      // A resolved conflict kept the version on the side it overwrote; a copy of the winner overwrote nothing.
      if (action.kind === "conflict" && action.hash !== null && entry.hash === action.hash) continue;
      wanted.push({ entry, expect: action.kind === "delete" ? null : action.hash });
    }
  }
  return { wanted, missing };
}

/** Runs `undo`; returns the exit code. */
export async function runUndo(ctx: AppContext, target: string, force: boolean): Promise<number> {
  const { out } = ctx;
  const root = await statusPath(ctx);
  const targets = await selectTargets(ctx, [target]);
  const locks = await lockPairs(
    ctx,
    root,
    targets.map((t) => t.resolved.pair.name),
  );
  let failed = 0;
  try {
    const groups: { group: PutBackGroup; run: JournalRun }[] = [];
    for (const { resolved, collections } of targets) {
      for (const c of collections) {
        const pair = resolved.pair.name;
        const name = statusNameOf(pair, c.name);
        const { run, undone } = lastChange(root, pair, c.name);
        if (undone) {
          out.info(
            `${name}: the last change (run ${undone.undoes}) was undone by run ${undone.run}; nothing to undo.`,
          );
          continue;
        }
        if (!run) {
          out.info(`${name}: no sync that changed something is in the journal; nothing to undo.`);
          continue;
        }
        const { wanted, missing } = putBacksOf(ctx, root, run);
        failed += missing;
        if (wanted.length === 0) {
          out.info(
            `${name}: run ${run.run} overwrote and deleted nothing; nothing to undo (copied items stay).`,
          );
          continue;
        }
        out.info(
          `${name}: undoing run ${run.run} (${wanted.length} version${wanted.length === 1 ? "" : "s"} to bring back)`,
        );
        try {
          groups.push({ group: await preparePutBack(ctx, root, pair, c.name, wanted), run });
        } catch (err) {
          failed++;
          reportError(out, err, name);
        }
      }
    }
    if (groups.length > 0) {
      if (
        !(await agreeToReplace(
          ctx,
          groups.map((g) => g.group),
          force,
        ))
      )
        return 1;
      for (const { group, run } of groups) {
        const recorder = new RunRecorder(root, {
          kind: "undo",
          pair: group.pair,
          collection: group.collection,
          undoes: run.run,
          storages: run.storages,
        });
        try {
          failed += await applyPutBack(ctx, group, recorder);
        } finally {
          await recorder.finish();
        }
      }
      if (failed === 0)
        out.info("Undone. The next `vdirsyncer sync` copies the restored versions to the other side.");
    }
  } finally {
    for (const l of locks) l.release();
  }
  return failed === 0 ? 0 : 1;
}

/** The yargs module of `undo`. */
export function undoCommand(run: (handler: (ctx: AppContext) => Promise<number>) => void): CommandModule {
  return {
    command: "undo <target>",
    describe:
      "Bring back what the last sync of a pair or collection overwrote or deleted; the next sync copies it to the other side.",
    builder: (y: Argv) =>
      y
        .positional("target", { type: "string", describe: "PAIR or PAIR/COLLECTION" })
        .option("force", {
          type: "boolean",
          default: false,
          describe: "Replace items changed since the sync, without asking (what is there goes to the trash).",
        })
        .example("$0 undo bob", "Undo the last sync of every collection of the pair bob"),
    handler: (argv: ArgumentsCamelCase) =>
      run((ctx) => runUndo(ctx, String(argv.target), argv.force === true)),
  };
}
