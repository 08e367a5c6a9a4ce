/**
 * A registry for the `@vdirsyncer` scope only, on 127.0.0.1, serving the packed tarballs: npm resolves the
 * packages' own `@vdirsyncer/*` dependencies (`^0.1.0`, …) from here exactly as it would from the public
 * registry after a release, while every third-party dependency still comes from the npm registry.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { basename } from "node:path";

export interface ScopeRegistry {
  /** `http://127.0.0.1:PORT/`, for `@vdirsyncer:registry=`. */
  url: string;
  close(): Promise<void>;
}

interface Entry {
  manifest: Record<string, unknown>;
  file: string;
  integrity: string;
  shasum: string;
}

/** The `package.json` inside a tarball made by `pnpm pack`. */
export function packedManifest(tarball: string): Record<string, unknown> {
  const text = execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" });
  return JSON.parse(text) as Record<string, unknown>;
}

/** Starts the registry; `tarballs` are the scoped packages it knows (one version each). */
export async function startScopeRegistry(tarballs: readonly string[]): Promise<ScopeRegistry> {
  const byName = new Map<string, Entry>();
  const byFile = new Map<string, string>();
  for (const file of tarballs) {
    const bytes = readFileSync(file);
    const manifest = packedManifest(file);
    byName.set(String(manifest.name), {
      manifest,
      file,
      integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
      shasum: createHash("sha1").update(bytes).digest("hex"),
    });
    byFile.set(basename(file), file);
  }
  let base = "";
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/");
    if (path.startsWith("/-/tarballs/")) {
      const file = byFile.get(path.slice("/-/tarballs/".length));
      if (file === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return void res.end(readFileSync(file));
    }
    const entry = byName.get(path.slice(1));
    if (entry === undefined) {
      res.writeHead(404, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ error: "not found" }));
    }
    const version = String(entry.manifest.version);
    const packument = {
      name: entry.manifest.name,
      "dist-tags": { latest: version },
      versions: {
        [version]: {
          ...entry.manifest,
          _id: `${String(entry.manifest.name)}@${version}`,
          dist: {
            tarball: `${base}-/tarballs/${basename(entry.file)}`,
            integrity: entry.integrity,
            shasum: entry.shasum,
          },
        },
      },
    };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(packument));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the scope registry has no port");
  base = `http://127.0.0.1:${address.port}/`;
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
