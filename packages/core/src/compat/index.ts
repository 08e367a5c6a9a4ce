/**
 * `@vdirsyncer/core/compat`: Python semantics that vdirsyncer's formats depend on (string stripping and line
 * splitting, `json.dumps`, `repr`, URL quoting, `~` expansion). Internal to vdirsyncer-ts packages: not part of
 * the plugin contract and not covered by its version.
 */
export * from "../item/python.ts";
