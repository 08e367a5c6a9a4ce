/**
 * `@vdirsyncer/core/compat`: Python semantics that vdirsyncer's formats and messages depend on (string stripping
 * and line splitting, `json.dumps`, `repr`, URL quoting and joining, `~` expansion and path normalisation), each
 * written once. Internal to vdirsyncer-ts packages: not part of the plugin contract and not covered by its
 * version.
 */
export * from "./json.ts";
export * from "./paths.ts";
export * from "./repr.ts";
export * from "./strings.ts";
export * from "./url.ts";
