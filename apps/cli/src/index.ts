export { closest, editDistance } from "./did-you-mean.ts";
export { type CliIO, processIO, type SignalSource } from "./io.ts";
export { main, VERSION } from "./main.ts";
export { LEVELS, type Level, parseLevel } from "./output.ts";
export { lookupPlaces } from "./plugin-places.ts";
export { FIRST_PARTY_TYPES, officialPackage, PluginResolver, pluginRequest } from "./plugins.ts";
