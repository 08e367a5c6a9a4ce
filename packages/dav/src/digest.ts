import { createHash, randomBytes } from "node:crypto";

/** One parsed `WWW-Authenticate: Digest …` challenge. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** `MD5`, `MD5-sess`, `SHA-256` or `SHA-256-sess` (upper case). */
  algorithm: string;
  /** `auth` when the server offers it; `undefined` for RFC 2069 servers without qop. */
  qop?: "auth";
  stale: boolean;
}

const SUPPORTED = new Set(["MD5", "MD5-SESS", "SHA-256", "SHA-256-SESS"]);

/** Splits `a=b, c="d, e"` into pairs, honouring quoted strings with backslash escapes. */
function parseParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/gy;
  let m: RegExpExecArray | null = re.exec(text);
  while (m !== null) {
    out.set((m[1] as string).toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? ""));
    m = re.exec(text);
  }
  return out;
}

/**
 * Parses the Digest challenges of a `WWW-Authenticate` header and picks the strongest one we support
 * (SHA-256 before MD5). `undefined` when there is none.
 */
export function parseDigestChallenge(header: string | null): DigestChallenge | undefined {
  if (!header) return undefined;
  // Several challenges may share one header: split before each scheme token.
  const parts = header.split(/,?\s*(?=\b(?:Digest|Basic|Bearer|Negotiate)\s)/i).filter((p) => p.trim());
  const found: DigestChallenge[] = [];
  for (const part of parts) {
    const m = /^\s*Digest\s+(.*)$/is.exec(part);
    if (!m) continue;
    const params = parseParams(m[1] as string);
    const algorithm = (params.get("algorithm") ?? "MD5").toUpperCase();
    const nonce = params.get("nonce");
    if (!SUPPORTED.has(algorithm) || nonce === undefined) continue;
    const qops = (params.get("qop") ?? "").split(",").map((q) => q.trim().toLowerCase());
    if (params.has("qop") && !qops.includes("auth")) continue; // auth-int only: we do not hash bodies
    found.push({
      realm: params.get("realm") ?? "",
      nonce,
      opaque: params.get("opaque"),
      algorithm:
        algorithm === "MD5-SESS" ? "MD5-sess" : algorithm === "SHA-256-SESS" ? "SHA-256-sess" : algorithm,
      qop: params.has("qop") ? "auth" : undefined,
      stale: params.get("stale")?.toLowerCase() === "true",
    });
  }
  found.sort((a, b) => Number(b.algorithm.startsWith("SHA")) - Number(a.algorithm.startsWith("SHA")));
  return found[0];
}

function hash(algorithm: string, text: string): string {
  return createHash(algorithm.startsWith("SHA-256") ? "sha256" : "md5")
    .update(text, "utf8")
    .digest("hex");
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/**
 * Digest state for one (user, password, challenge): computes `Authorization` headers with a nonce count that
 * increases by one per header. JavaScript runs this synchronously, so concurrent requests never share a count.
 */
export class DigestAuth {
  #nc = 0;
  readonly challenge: DigestChallenge;
  readonly #username: string;
  readonly #password: string;
  readonly #cnonce: () => string;

  /** `cnonce` is a test hook for RFC 7616's example vectors. */
  constructor(
    challenge: DigestChallenge,
    username: string,
    password: string,
    cnonce: () => string = () => randomBytes(16).toString("hex"),
  ) {
    this.challenge = challenge;
    this.#username = username;
    this.#password = password;
    this.#cnonce = cnonce;
  }

  /** The `Authorization` header for `method` on `uri` (the request-target: path and query). */
  header(method: string, uri: string): string {
    const c = this.challenge;
    const cnonce = this.#cnonce();
    this.#nc += 1;
    const nc = this.#nc.toString(16).padStart(8, "0");
    let ha1 = hash(c.algorithm, `${this.#username}:${c.realm}:${this.#password}`);
    if (c.algorithm.endsWith("-sess")) ha1 = hash(c.algorithm, `${ha1}:${c.nonce}:${cnonce}`);
    const ha2 = hash(c.algorithm, `${method}:${uri}`);
    const response = c.qop
      ? hash(c.algorithm, `${ha1}:${c.nonce}:${nc}:${cnonce}:${c.qop}:${ha2}`)
      : hash(c.algorithm, `${ha1}:${c.nonce}:${ha2}`);
    const fields = [
      `username=${quoted(this.#username)}`,
      `realm=${quoted(c.realm)}`,
      `uri=${quoted(uri)}`,
      `algorithm=${c.algorithm}`,
      `nonce=${quoted(c.nonce)}`,
    ];
    if (c.qop) fields.push(`nc=${nc}`, `cnonce=${quoted(cnonce)}`, `qop=${c.qop}`);
    fields.push(`response=${quoted(response)}`);
    if (c.opaque !== undefined) fields.push(`opaque=${quoted(c.opaque)}`);
    return `Digest ${fields.join(", ")}`;
  }
}
