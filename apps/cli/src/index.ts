export { type CliIO, processIO, type SignalSource } from "./io.ts";
export { main, VERSION } from "./main.ts";
export { LEVELS, type Level, parseLevel } from "./output.ts";
export {
  closest,
  editDistance,
  FIRST_PARTY_TYPES,
  lookupPlaces,
  officialPackage,
  PluginResolver,
  pluginRequest,
} from "./plugins.ts";
