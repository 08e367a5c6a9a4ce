/**
 * A config written in code (`vdirsyncer.config.ts`, `.js`, `.mjs`) imports `defineConfig` from `@vdirsyncer/*`.
 * When the command is installed globally, nothing next to the config provides those packages, and Node's own
 * lookup (the `node_modules` folders above the config file) fails. This module lets such an import fall back to
 * the packages the running command was installed with, so the config works without a local install.
 */
import { realpathSync } from "node:fs";
import { registerHooks } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const SCOPE = "@vdirsyncer/";
const configDirs = new Set<string>();
let registered = false;

/** Where the fallback looks, in this order: the running command's main script, then this package itself. */
function fallbackParents(): string[] {
  const parents: string[] = [];
  const main = process.argv[1];
  if (main !== undefined) {
    try {
      parents.push(pathToFileURL(realpathSync(main)).href);
    } catch {
      // No main script on disk (e.g. `node -e`): only this package's own location is left.
    }
  }
  parents.push(import.meta.url);
  return parents;
}

function fromConfigDir(parentURL: string | undefined): boolean {
  if (parentURL === undefined) return false;
  for (const dir of configDirs) if (parentURL.startsWith(dir)) return true;
  return false;
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/**
 * Makes `@vdirsyncer/*` imports of modules inside `dir` (a config file's folder) resolve from the command's own
 * install when Node finds no such package above `dir`. A package installed next to the config still wins.
 * Registers one module resolution hook per process; later calls only add folders.
 */
export function resolveOwnPackagesFrom(dir: string): void {
  const url = pathToFileURL(resolve(dir)).href;
  configDirs.add(url.endsWith("/") ? url : `${url}/`);
  if (registered) return;
  registered = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (err) {
        if (!specifier.startsWith(SCOPE) || !isNotFound(err) || !fromConfigDir(context.parentURL)) throw err;
        for (const parentURL of fallbackParents()) {
          try {
            return nextResolve(specifier, { ...context, parentURL });
          } catch (inner) {
            if (!isNotFound(inner)) throw inner;
          }
        }
        throw err;
      }
    },
  });
}
