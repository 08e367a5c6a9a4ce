export { type CliIO, processIO } from "./io.ts";
export { main, VERSION } from "./main.ts";
export { LEVELS, type Level, parseLevel } from "./output.ts";
export { FIRST_PARTY_TYPES, PluginResolver, pluginRequest } from "./plugins.ts";
