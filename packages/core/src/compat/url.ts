/**
 * Python's `urllib.parse` pieces (`urlsplit`, `urljoin`, `quote`, `unquote`) that vdirsyncer's href handling
 * relies on, ported for identical results: status rows are looked up by href, so one differing byte means a
 * resync.
 */

const USES_RELATIVE = new Set([
  "",
  "ftp",
  "http",
  "gopher",
  "nntp",
  "imap",
  "wais",
  "file",
  "https",
  "shttp",
  "mms",
  "prospero",
  "rtsp",
  "rtspu",
  "sftp",
  "svn",
  "svn+ssh",
  "ws",
  "wss",
]);
const USES_NETLOC = new Set([
  "",
  "ftp",
  "http",
  "gopher",
  "nntp",
  "telnet",
  "imap",
  "wais",
  "file",
  "mms",
  "https",
  "shttp",
  "snews",
  "prospero",
  "rtsp",
  "rtspu",
  "rsync",
  "svn",
  "svn+ssh",
  "sftp",
  "nfs",
  "git",
  "git+ssh",
  "ws",
  "wss",
]);
const USES_PARAMS = new Set([
  "",
  "ftp",
  "hdl",
  "prospero",
  "http",
  "imap",
  "https",
  "shttp",
  "rtsp",
  "rtspu",
  "sip",
  "sips",
  "mms",
  "sftp",
  "tel",
]);
const SCHEME_CHARS = /^[A-Za-z0-9+\-.]+$/;
const LEADING_C0_OR_SPACE = /^[\u0000-\u0020]+/;

/** The five parts of a URL, as Python's `SplitResult`. */
export interface PyUrlSplit {
  scheme: string;
  netloc: string;
  path: string;
  query: string;
  fragment: string;
}

/** Python `urlsplit(url, scheme)` (3.11, with the WHATWG stripping and the removal of tab/CR/LF). */
export function pyUrlsplit(input: string, defaultScheme = ""): PyUrlSplit {
  let url = input.replace(LEADING_C0_OR_SPACE, "").replace(/[\t\r\n]/g, "");
  let scheme = defaultScheme;
  let netloc = "";
  let query = "";
  let fragment = "";
  const i = url.indexOf(":");
  if (i > 0 && /^[A-Za-z]/.test(url) && SCHEME_CHARS.test(url.slice(0, i))) {
    scheme = url.slice(0, i).toLowerCase();
    url = url.slice(i + 1);
  }
  if (url.startsWith("//")) {
    let delim = url.length;
    for (const c of "/?#") {
      const w = url.indexOf(c, 2);
      if (w >= 0) delim = Math.min(delim, w);
    }
    netloc = url.slice(2, delim);
    url = url.slice(delim);
  }
  const hash = url.indexOf("#");
  if (hash >= 0) {
    fragment = url.slice(hash + 1);
    url = url.slice(0, hash);
  }
  const q = url.indexOf("?");
  if (q >= 0) {
    query = url.slice(q + 1);
    url = url.slice(0, q);
  }
  return { scheme, netloc, path: url, query, fragment };
}

interface Parsed extends PyUrlSplit {
  params: string;
}

function pyUrlparse(url: string, defaultScheme: string): Parsed {
  const s = pyUrlsplit(url, defaultScheme);
  let params = "";
  let path = s.path;
  if (USES_PARAMS.has(s.scheme) && path.includes(";")) {
    let i: number;
    if (path.includes("/")) {
      i = path.indexOf(";", path.lastIndexOf("/"));
    } else {
      i = path.indexOf(";");
    }
    if (i >= 0) {
      params = path.slice(i + 1);
      path = path.slice(0, i);
    }
  }
  return { ...s, path, params };
}

function pyUrlunparse(p: Parsed): string {
  let url = p.params ? `${p.path};${p.params}` : p.path;
  if (p.netloc || (p.scheme && USES_NETLOC.has(p.scheme) && !url.startsWith("//"))) {
    if (url && !url.startsWith("/")) url = `/${url}`;
    url = `//${p.netloc}${url}`;
  }
  if (p.scheme) url = `${p.scheme}:${url}`;
  if (p.query) url = `${url}?${p.query}`;
  if (p.fragment) url = `${url}#${p.fragment}`;
  return url;
}

/** Python `urllib.parse.urljoin(base, url)`. */
export function pyUrljoin(base: string, url: string): string {
  if (!base) return url;
  if (!url) return base;
  const b = pyUrlparse(base, "");
  const r = pyUrlparse(url, b.scheme);
  if (r.scheme !== b.scheme || !USES_RELATIVE.has(r.scheme)) return url;
  let netloc = r.netloc;
  if (USES_NETLOC.has(r.scheme)) {
    if (netloc) return pyUrlunparse(r);
    netloc = b.netloc;
  }
  if (!r.path && !r.params) {
    return pyUrlunparse({ ...r, netloc, path: b.path, params: b.params, query: r.query || b.query });
  }
  const baseParts = b.path.split("/");
  if (baseParts.at(-1) !== "") baseParts.pop();
  let segments: string[];
  if (r.path.startsWith("/")) {
    segments = r.path.split("/");
  } else {
    segments = [...baseParts, ...r.path.split("/")];
    const inner = segments.slice(1, -1).filter((s) => s !== "");
    segments = segments.length >= 2 ? [segments[0] as string, ...inner, segments.at(-1) as string] : segments;
  }
  const resolved: string[] = [];
  for (const seg of segments) {
    if (seg === "..") resolved.pop();
    else if (seg !== ".") resolved.push(seg);
  }
  const last = segments.at(-1);
  if (last === "." || last === "..") resolved.push("");
  return pyUrlunparse({ ...r, netloc, path: resolved.join("/") || "/" });
}

const decoder = new TextDecoder("utf-8", { fatal: false });

/** Python `unquote(s)`: %XX in ASCII runs decoded as UTF-8 with U+FFFD for invalid bytes; bad escapes kept. */
export function pyUnquote(s: string): string {
  if (!s.includes("%")) return s;
  return s.replace(/[\u0000-\u007f]+/g, (run) => {
    if (!run.includes("%")) return run;
    const bytes: number[] = [];
    for (let i = 0; i < run.length; i++) {
      const c = run.charCodeAt(i);
      if (c === 0x25 && /^[0-9A-Fa-f]{2}$/.test(run.slice(i + 1, i + 3))) {
        bytes.push(Number.parseInt(run.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(c);
      }
    }
    return decoder.decode(new Uint8Array(bytes));
  });
}

const encoder = new TextEncoder();
const ALWAYS_SAFE = /[A-Za-z0-9_.\-~]/;

/** Python `quote(s, safe)`: UTF-8 bytes outside `A-Za-z0-9_.-~` and `safe` become `%XX` (uppercase). */
export function pyQuote(s: string, safe = "/"): string {
  let out = "";
  for (const ch of s) {
    if ((ch.length === 1 && ALWAYS_SAFE.test(ch)) || (ch.length === 1 && safe.includes(ch))) {
      out += ch;
      continue;
    }
    for (const byte of encoder.encode(ch)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
