// Runs the vdirsyncer command from its TypeScript sources (Node strips the types; `--conditions=source` makes
// every workspace package resolve to its src/), for when the build is missing or older than the sources.
const { main } = await import("../../../apps/cli/src/index.ts");
process.exitCode = await main(process.argv.slice(2));
