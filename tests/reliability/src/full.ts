/**
 * The size of a run: the CI version (the default) covers each code path once in about two minutes on two
 * cores; `VDIRSYNCER_RELIABILITY_FULL=1` runs everything (every crash kind, every fault, the large race), as
 * `node bench/crash-harness.mjs` does for the crash kinds.
 */
export const FULL = process.env.VDIRSYNCER_RELIABILITY_FULL === "1";
