/**
 * The configuration model: what the INI file and cosmiconfig files both turn into, after one validation path.
 * Written keys are spelled as in vdirsyncer's config file (`status_path`, `conflict_resolution`, …); what the
 * engine takes is already in the engine's types (`ConflictResolution`, `PartialSyncMode`).
 */
import type { ConflictResolution, PartialSyncMode } from "@vdirsyncer/core/engine";

/** A config value: vdirsyncer parses every INI value as JSON. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Where a section (and so an error) comes from, for messages: `~/.config/vdirsyncer/config`, `[storage foo]`. */
export interface ConfigSource {
  /** The config file, or `undefined` for a config given in code. */
  file: string | undefined;
  /** The section header as written, e.g. `storage my_calendar`. */
  section: string;
  /** 1-based line of the section header (INI files only). */
  line?: number;
  /** 1-based line of each key as written (INI files only), for messages that name a key. */
  lines?: Record<string, number>;
}

/** `<key>.fetch`: how to fetch a value at run time (spec/config.md §8). */
export type FetchStrategy =
  | readonly ["command", ...string[]]
  | readonly ["shell", ...string[]]
  | readonly ["prompt", string];

/** A `[storage NAME]` section. */
export interface StorageSection {
  name: string;
  /**
   * The storage `type` as written (may carry a `/suffix` such as `filesystem/icalendar`, or be a package name).
   * Empty when the type is fetched (`type.fetch`): the fetcher's result then has `type`.
   */
  type: string;
  /** `read_only`. @default false */
  readOnly: boolean;
  /** `no_delete`. @default false */
  noDelete: boolean;
  /**
   * The plugin's own options as written (JSON values), without `type`, `read_only`, `no_delete`, `instance_name`
   * and without the keys that are fetched.
   */
  options: Record<string, JsonValue>;
  /** Keys whose values are fetched at run time (`password.fetch = [...]` → `{ password: [...] }`). */
  fetch: Record<string, FetchStrategy>;
  /**
   * Every key exactly as written, `.fetch` keys included, plus `instance_name` (vdirsyncer injects it): what
   * `showconfig` prints and, with fetched values substituted, what the discovery cache key hashes.
   */
  raw: Record<string, JsonValue>;
  source: ConfigSource;
}

/** One entry of a pair's `collections` list. */
export type CollectionEntry = string | readonly [string, string | null, string | null];

/** `conflict_resolution` as written; {@link PairSection.conflictResolution} holds it as the engine takes it. */
export type ConflictResolutionSetting = null | "a wins" | "b wins" | readonly ["command", ...string[]];

/** A `[pair NAME]` section. */
export interface PairSection {
  name: string;
  /** Storage section names; checked when used (`Storage '<x>' not found. …`). */
  a: string;
  b: string;
  /** `null` is vdirsyncer's `collections = null`: the configured locations are the collections. */
  collections: readonly CollectionEntry[] | null;
  /**
   * `conflict_resolution`, as the engine takes it: `"a wins"` is `{ kind: "a wins" }`, `["command", prog, …]` is
   * `{ kind: "command", argv: [prog, …] }`; `null` when not set (a conflict is an error).
   */
  conflictResolution: ConflictResolution | null;
  /** `partial_sync`; checked against read-only storages only when the pair is synced. @default "revert" */
  partialSync: PartialSyncMode;
  /** Whether `partial_sync` was written (vdirsyncer then requires exactly one read-only storage). */
  partialSyncSet: boolean;
  /** `metadata`: keys for metasync. @default [] */
  metadata: readonly string[];
  /** `implicit = "create"`: create missing collections without asking. */
  implicitCreate: boolean;
  /** Every key exactly as written (the parsed `collections` value feeds the discovery cache key). */
  raw: Record<string, JsonValue>;
  source: ConfigSource;
}

/** A whole, validated configuration. */
export interface Config {
  /** The file it came from; `undefined` for a config object given in code. */
  file: string | undefined;
  format: "ini" | "cosmiconfig";
  /**
   * `[general] status_path`, `~`-expanded, normalised and joined with the config file's directory, as vdirsyncer
   * does (so a relative path is relative to the file; with a relative file name, to the working directory).
   */
  statusPath: string;
  /** In config order. */
  pairs: Map<string, PairSection>;
  /** In config order. */
  storages: Map<string, StorageSection>;
}

/** The shape a cosmiconfig file (`vdirsyncer.config.ts`, …) exports; keys as in the INI file. */
export interface UserConfig {
  general: { status_path: string };
  pairs?: Record<
    string,
    {
      a: string;
      b: string;
      collections: CollectionEntry[] | null;
      conflict_resolution?: ConflictResolutionSetting;
      partial_sync?: "revert" | "ignore" | "error";
      metadata?: string[];
      implicit?: "create";
    }
  >;
  storages?: Record<
    string,
    { type: string; read_only?: boolean; no_delete?: boolean; [key: string]: unknown }
  >;
}

/** Declares a config in code with type checking: `export default defineConfig({ … })`. */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}
