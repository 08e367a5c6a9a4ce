/**
 * `vdirsyncer completion bash|zsh|fish`: prints a shell completion script. The script completes commands and
 * options itself, and asks `vdirsyncer completion --names` for pair, collection and storage names, which reads
 * only the config file and the discovery caches (no network, no fetch commands).
 */

import { readDiscoveryCache } from "@vdirsyncer/status";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import { statusPath } from "../collections.ts";
import type { AppContext } from "../context.ts";

const COMMANDS = [
  "discover",
  "sync",
  "metasync",
  "repair",
  "trash",
  "undo",
  "daemon",
  "status",
  "check",
  "showconfig",
  "plugins",
  "completion",
];
const GLOBAL = ["-v", "--verbosity", "-c", "--config", "--version", "--help"];
const OPTIONS: Record<string, string[]> = {
  discover: ["--list", "--no-list"],
  sync: ["--force-delete", "--no-force-delete", "--dry-run", "--json"],
  metasync: [],
  repair: ["--repair-unsafe-uid", "--no-repair-unsafe-uid"],
  trash: ["--json", "--force", "--older-than", "--max-size"],
  undo: ["--force"],
  daemon: ["--interval", "--jitter", "--debounce", "--retry", "--max-backoff", "--discover-interval"],
  status: ["--json"],
  check: ["--json"],
  showconfig: [],
  plugins: ["--json"],
  completion: [],
};

/** The names a shell may complete for `kind`: pairs (with `pair/collection` from the cache) or storages. */
export async function completionNames(ctx: AppContext, kind: string): Promise<string[]> {
  const config = await ctx.config();
  if (kind === "storages") return [...config.storages.keys()];
  if (kind === "pairs") return [...config.pairs.keys()];
  const root = await statusPath(ctx);
  const names: string[] = [];
  for (const pair of config.pairs.keys()) {
    names.push(pair);
    // The cache is read as is: checking its key would run fetch commands.
    for (const [collection] of readDiscoveryCache(root, pair)?.collections ?? []) {
      if (collection !== null) names.push(`${pair}/${collection}`);
    }
  }
  return names;
}

function bash(): string {
  const opts = Object.entries(OPTIONS)
    .map(([c, o]) => `    ${c}) opts="${o.join(" ")}" ;;`)
    .join("\n");
  return `# vdirsyncer completion for bash: eval "$(vdirsyncer completion bash)"
_vdirsyncer() {
  local cur prev cmd i opts names
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -v|--verbosity|-c|--config) ((i++)) ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$prev" in
    -v|--verbosity) COMPREPLY=($(compgen -W "CRITICAL ERROR WARNING INFO DEBUG" -- "$cur")); return ;;
    -c|--config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${COMMANDS.join(" ")} ${GLOBAL.join(" ")}" -- "$cur"))
    return
  fi
  case "$cmd" in
${opts}
    *) opts="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
    return
  fi
  case "$cmd" in
    sync|metasync|undo) names="$(vdirsyncer completion --names collections 2>/dev/null)" ;;
    trash) names="list show restore prune" ;;
    discover|daemon|status) names="$(vdirsyncer completion --names pairs 2>/dev/null)" ;;
    repair|check) names="$(vdirsyncer completion --names storages 2>/dev/null)" ;;
    completion) names="bash zsh fish" ;;
  esac
  COMPREPLY=($(compgen -W "$names" -- "$cur"))
}
complete -o default -F _vdirsyncer vdirsyncer
`;
}

function zsh(): string {
  return `#compdef vdirsyncer
# vdirsyncer completion for zsh: eval "$(vdirsyncer completion zsh)"
_vdirsyncer() {
  local -a commands names
  commands=(${COMMANDS.map((c) => `'${c}'`).join(" ")})
  _arguments -C \\
    '(-v --verbosity)'{-v,--verbosity}'[log level]:level:(CRITICAL ERROR WARNING INFO DEBUG)' \\
    '(-c --config)'{-c,--config}'[config file]:file:_files' \\
    '--version[show the version]' \\
    '--help[show help]' \\
    '1:command:->command' \\
    '*::arg:->args'
  case $state in
    command) _describe 'command' commands ;;
    args)
      case $words[1] in
${Object.entries(OPTIONS)
  .map(([c, o]) => {
    const kind =
      c === "discover" || c === "daemon" || c === "status"
        ? "pairs"
        : c === "repair" || c === "check"
          ? "storages"
          : c === "completion"
            ? ""
            : "collections";
    const source =
      c === "plugins"
        ? "()"
        : c === "trash"
          ? "(list show restore prune)"
          : kind === ""
            ? "(bash zsh fish)"
            : `(\${(f)"$(vdirsyncer completion --names ${kind} 2>/dev/null)"})`;
    return `        ${c}) names=${source}; _arguments ${o.map((x) => `'${x}'`).join(" ")} '*:name:($names)' ;;`;
  })
  .join("\n")}
      esac ;;
  esac
}
compdef _vdirsyncer vdirsyncer
`;
}

function fish(): string {
  const lines = [
    "# vdirsyncer completion for fish: vdirsyncer completion fish | source",
    "complete -c vdirsyncer -f",
    `complete -c vdirsyncer -n __fish_use_subcommand -a "${COMMANDS.join(" ")}"`,
    'complete -c vdirsyncer -s v -l verbosity -x -a "CRITICAL ERROR WARNING INFO DEBUG"',
    "complete -c vdirsyncer -s c -l config -r -F",
    "complete -c vdirsyncer -l version",
    'complete -c vdirsyncer -n "__fish_seen_subcommand_from sync metasync undo" -a "(vdirsyncer completion --names collections 2>/dev/null)"',
    'complete -c vdirsyncer -n "__fish_seen_subcommand_from trash" -a "list show restore prune"',
    'complete -c vdirsyncer -n "__fish_seen_subcommand_from discover daemon status" -a "(vdirsyncer completion --names pairs 2>/dev/null)"',
    'complete -c vdirsyncer -n "__fish_seen_subcommand_from repair check" -a "(vdirsyncer completion --names storages 2>/dev/null)"',
    'complete -c vdirsyncer -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"',
  ];
  for (const [c, opts] of Object.entries(OPTIONS)) {
    for (const o of opts)
      lines.push(`complete -c vdirsyncer -n "__fish_seen_subcommand_from ${c}" -l ${o.slice(2)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The completion script for `shell`. */
export function completionScript(shell: "bash" | "zsh" | "fish"): string {
  return shell === "bash" ? bash() : shell === "zsh" ? zsh() : fish();
}

/** The yargs module of `completion`. */
export function completionCommand(
  run: (handler: (ctx: AppContext) => Promise<number>) => void,
): CommandModule {
  return {
    command: "completion [shell]",
    describe: "Print a shell completion script (bash, zsh or fish).",
    builder: (y: Argv) =>
      y
        .positional("shell", { type: "string", choices: ["bash", "zsh", "fish"] })
        .option("names", { type: "string", choices: ["pairs", "collections", "storages"], hidden: true }),
    handler: (argv: ArgumentsCamelCase) =>
      run(async (ctx) => {
        if (typeof argv.names === "string") {
          for (const name of await completionNames(ctx, argv.names)) ctx.io.stdout.write(`${name}\n`);
          return 0;
        }
        const shell = (argv.shell ?? "bash") as "bash" | "zsh" | "fish";
        ctx.io.stdout.write(completionScript(shell));
        return 0;
      }),
  };
}
