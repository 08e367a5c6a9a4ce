/**
 * What every command gets: the streams, the log, stdin answers, the config (loaded on first use), fetch-param
 * resolution and the plugin resolver.
 */
import { dirname } from "node:path";
import type { Config, JsonValue, PairSection, StorageSection } from "@vdirsyncer/config";
import { UserError } from "@vdirsyncer/core";
import { pyRepr as pyReprList } from "@vdirsyncer/core/compat";
import { type ConfigAccess, openConfig } from "./config.ts";
import { PairNotFoundError } from "./errors.ts";
import type { CliIO } from "./io.ts";
import type { Output } from "./output.ts";
import { lookupPlaces } from "./plugin-places.ts";
import { PluginResolver } from "./plugins.ts";
import { LineReader } from "./prompt.ts";
import { Tally } from "./stats.ts";
import { StorageHost } from "./storages.ts";

/** The state of one run of the command. */
export class AppContext {
  readonly io: CliIO;
  readonly out: Output;
  readonly reader: LineReader;
  /** `-c/--config`, as given. */
  readonly configOption: string | undefined;
  #config: Promise<ConfigAccess> | undefined;
  #plugins: PluginResolver | undefined;
  readonly #resolved = new Map<string, Promise<Record<string, JsonValue>>>();
  /** The storages this run opened, one per section; closed when the command ends. */
  readonly storages: StorageHost;
  /** Aborted by the first SIGINT/SIGTERM: no new action starts, writes in flight finish. */
  readonly stop = new AbortController();
  /** Aborted by a second signal or when the stop's deadline passed: calls in flight are abandoned. */
  readonly halt = new AbortController();
  /** What calls outside any collection cost (discover, create, check). */
  readonly stats = new Tally();

  constructor(io: CliIO, out: Output, configOption: string | undefined) {
    this.io = io;
    this.out = out;
    this.reader = new LineReader(io.stdin);
    this.configOption = configOption;
    this.storages = new StorageHost(this);
  }

  /**
   * The config, read once.
   * @throws {UserError} `Error during reading config <file>: …` and the validation errors of `@vdirsyncer/config`
   */
  async config(): Promise<Config> {
    return (await this.#access()).config;
  }

  #access(): Promise<ConfigAccess> {
    this.#config ??= openConfig(this);
    return this.#config;
  }

  /**
   * The plugin resolver: the config file's folder, npm's global folder, then the command's own install; never
   * the working directory.
   */
  async plugins(): Promise<PluginResolver> {
    if (!this.#plugins) {
      const config = await this.config();
      this.#plugins = new PluginResolver(
        lookupPlaces({
          configDir: config.file === undefined ? undefined : dirname(config.file),
          env: this.io.env,
        }),
      );
    }
    return this.#plugins;
  }

  /**
   * The pair section `name`.
   * @throws {PairNotFoundError} there is none
   */
  async pair(name: string): Promise<PairSection> {
    const config = await this.config();
    const pair = config.pairs.get(name);
    if (!pair) throw new PairNotFoundError(name, [...config.pairs.keys()]);
    return pair;
  }

  /**
   * The storage section `name`.
   * @throws {UserError} `Storage '<x>' not found. These are the configured storages: [...]`
   */
  async storageSection(name: string): Promise<StorageSection> {
    const config = await this.config();
    const section = config.storages.get(name);
    if (!section) {
      throw new UserError(
        `Storage ${pyReprList([name]).slice(1, -1)} not found. These are the configured storages: ${pyReprList([...config.storages.keys()])}`,
        { hint: "Check the `a` and `b` keys of the pair section against the [storage …] sections." },
      );
    }
    return section;
  }

  /**
   * The storage section `name` as written, with fetched values (`password.fetch` → `password`) and
   * `instance_name`: what vdirsyncer hashes into the discovery cache key and builds storages from.
   * Fetch commands and prompts run once per run, when first needed.
   */
  resolvedStorage(name: string): Promise<Record<string, JsonValue>> {
    let pending = this.#resolved.get(name);
    if (!pending) {
      pending = (async () => {
        const section = await this.storageSection(name);
        return (await this.#access()).resolveRaw(section);
      })();
      this.#resolved.set(name, pending);
    }
    return pending;
  }
}
