/**
 * The `vdirsyncer` command: global options, the commands, exit codes (0 success, 1 an error inside a command,
 * 2 a usage error), everything but `--help`, `--version`, `showconfig`, `completion` and `--json` on stderr.
 */
import type { Argv, CommandModule } from "yargs";
import pkg from "../package.json" with { type: "json" };
import type { AppContext } from "./context.ts";
import { type CliIO, processIO } from "./io.ts";
import { LEVELS, type Level, Output, parseLevel, wantsColour } from "./output.ts";

/** This package's version, printed by `--version`. */
export const VERSION: string = pkg.version;

/** How long writes in flight may take to finish after the first SIGINT/SIGTERM. */
export const STOP_DEADLINE_MS = 10_000;

/** The exit code after a signal: 128 + its number, as shells report it. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/** Commands that run until stopped: a signal is their normal end, so they exit with their own code (0). */
const RUNS_UNTIL_STOPPED = new Set(["daemon"]);

/** A command's work, run once the arguments are parsed. */
type Handler = (ctx: AppContext) => Promise<number>;

/** Options that take a value, so `-vdebug` and `-cFILE` can be split as click splits them. */
const VALUE_SHORTS = new Set(["v", "c"]);

/** click accepts `-vdebug` for `-v debug`; yargs would read it as five flags. */
function splitShortValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  let rest = false;
  for (const arg of argv) {
    if (!rest && arg === "--") rest = true;
    const m = /^-([a-z])([^=].*)$/.exec(arg);
    if (!rest && m && VALUE_SHORTS.has(m[1] as string)) out.push(`-${m[1]}`, m[2] as string);
    else out.push(arg);
  }
  return out;
}

/** True when `--version` comes before the command (click's eager option). */
function wantsVersion(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--version") return true;
    if (arg === "-v" || arg === "--verbosity" || arg === "-c" || arg === "--config") i++;
    else if (!arg.startsWith("-")) return false;
  }
  return false;
}

const USAGE = "Usage: vdirsyncer [OPTIONS] COMMAND [ARGS]...\nTry 'vdirsyncer --help' for help.\n\n";

/**
 * The parser with every command. It and the commands are loaded here, not at the top of this module, so that
 * `--version` loads nothing but this file; each command loads what its work needs when it runs.
 */
async function parser(args: string[], io: CliIO, onHandler: (h: Handler) => void): Promise<Argv> {
  const [
    { default: yargs },
    { UsageError },
    { checkCommand },
    { completionCommand },
    { daemonCommand },
    { discoverCommand },
    { metasyncCommand },
    { pluginsCommand },
    { repairCommand },
    { showconfigCommand },
    { statusCommand },
    { syncCommand },
    { trashCommand },
    { undoCommand },
  ] = await Promise.all([
    import("yargs"),
    import("./errors.ts"),
    import("./commands/check.ts"),
    import("./commands/completion.ts"),
    import("./commands/daemon.ts"),
    import("./commands/discover.ts"),
    import("./commands/metasync.ts"),
    import("./commands/plugins.ts"),
    import("./commands/repair.ts"),
    import("./commands/showconfig.ts"),
    import("./commands/status.ts"),
    import("./commands/sync.ts"),
    import("./commands/trash.ts"),
    import("./commands/undo.ts"),
  ]);
  const run = (h: Handler) => onHandler(h);
  const commands: CommandModule[] = [
    discoverCommand(run),
    syncCommand(run),
    metasyncCommand(run),
    repairCommand(run),
    trashCommand(run),
    undoCommand(run),
    daemonCommand(run),
    statusCommand(run),
    checkCommand(run),
    showconfigCommand(run),
    pluginsCommand(run),
    completionCommand(run),
  ];
  let y = yargs(args)
    .scriptName("vdirsyncer")
    .usage("vdirsyncer [OPTIONS] COMMAND [ARGS]...\n\nSynchronize calendars and contacts")
    .exitProcess(false)
    .strict()
    .version(false)
    .help()
    .alias("h", "help")
    .wrap(Math.min(100, io.stdout.columns ?? 80))
    .option("verbosity", {
      alias: "v",
      type: "string",
      default: "INFO",
      describe: "Either CRITICAL, ERROR, WARNING, INFO or DEBUG",
    })
    .option("config", { alias: "c", type: "string", describe: "Config file to use." })
    .option("version", { type: "boolean", describe: "Show the version and exit." })
    .check((argv) => {
      if (parseLevel(String(argv.verbosity)) === undefined) {
        throw new UsageError(
          `Invalid value for '-v' / '--verbosity': Must be ${LEVELS.slice(0, -1).join(", ")} or DEBUG, not ${String(argv.verbosity)}`,
        );
      }
      return true;
    }, true)
    .fail((message, err) => {
      throw err instanceof UsageError ? err : new UsageError(message ?? err?.message ?? "Invalid usage.");
    });
  for (const c of commands) y = y.command(c);
  return y;
}

/**
 * Runs the command with `argv` (without `node` and the script) in `io` (the process's by default) and
 * returns the exit code. Never calls `process.exit`.
 */
export async function main(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const args = splitShortValues(argv);
  if (wantsVersion(args)) {
    // Before the streams are set up: the process's stdin costs a few milliseconds to create.
    (io.stdout ?? process.stdout).write(`vdirsyncer, version ${VERSION}\n`);
    return 0;
  }
  const env: CliIO = { ...processIO(), ...io };
  let handler: Handler | undefined;
  let parsed: Record<string, unknown>;
  let help: string;
  try {
    const y = await parser(args, env, (h) => {
      handler = h;
    });
    [parsed, help] = await new Promise<[Record<string, unknown>, string]>((resolve, reject) => {
      y.parse(args, {}, (err, result, output) => {
        if (err) reject(err);
        else resolve([result as Record<string, unknown>, output]);
      });
    });
    if (handler === undefined && help === "") help = await y.getHelp();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    env.stderr.write(`${USAGE}Error: ${message}\n`);
    return 2;
  }
  if (handler === undefined) {
    // `--help`, or no command at all: the help text, as click prints it for a bare group.
    env.stdout.write(`${help}\n`);
    return 0;
  }
  const [{ AppContext }, { reportError }] = await Promise.all([
    import("./context.ts"),
    import("./errors.ts"),
  ]);
  const level = parseLevel(String(parsed.verbosity)) as Level;
  const out = new Output(env.stderr, level, {
    colour: wantsColour(env.stderr, env.env),
  });
  const ctx = new AppContext(env, out, typeof parsed.config === "string" ? parsed.config : undefined);
  const stopping = watchSignals(ctx);
  let code: number;
  try {
    code = await handler(ctx);
  } catch (err) {
    reportError(out, err);
    code = 1;
  } finally {
    // Every storage this run opened is closed, whatever happened (errors and signals included).
    await ctx.storages.closeAll();
    stopping.dispose();
  }
  return stopping.signal === undefined ||
    RUNS_UNTIL_STOPPED.has(String((parsed._ as unknown[] | undefined)?.[0]))
    ? code
    : SIGNAL_EXIT[stopping.signal];
}

/**
 * SIGINT/SIGTERM: the first one stops gracefully (no new action starts, writes in flight finish within
 * {@link STOP_DEADLINE_MS}); the second one, or the deadline, aborts the calls in flight. Either way the command
 * records what finished, releases its locks and closes its storages before it exits.
 */
function watchSignals(ctx: AppContext): {
  readonly signal: "SIGINT" | "SIGTERM" | undefined;
  dispose(): void;
} {
  const source = ctx.io.signals;
  let received: "SIGINT" | "SIGTERM" | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const halt = () => {
    if (ctx.halt.signal.aborted) return;
    ctx.out.warn("Stopping now: abandoning the requests in flight.");
    ctx.halt.abort();
    ctx.reader.cancel();
  };
  const on = (signal: "SIGINT" | "SIGTERM") => () => {
    if (received !== undefined) {
      halt();
      return;
    }
    received = signal;
    const again = signal === "SIGINT" ? "Press Ctrl-C again" : "Send it again";
    ctx.out.warn(
      `Received ${signal}: stopping. No new change starts; changes in flight may take ${STOP_DEADLINE_MS / 1000} s to finish. ${again} to stop at once.`,
    );
    ctx.stop.abort();
    ctx.reader.cancel();
    deadline = setTimeout(halt, STOP_DEADLINE_MS);
    deadline.unref();
  };
  const listeners = { SIGINT: on("SIGINT"), SIGTERM: on("SIGTERM") };
  source?.on("SIGINT", listeners.SIGINT);
  source?.on("SIGTERM", listeners.SIGTERM);
  return {
    get signal() {
      return received;
    },
    dispose() {
      clearTimeout(deadline);
      source?.off("SIGINT", listeners.SIGINT);
      source?.off("SIGTERM", listeners.SIGTERM);
    },
  };
}
