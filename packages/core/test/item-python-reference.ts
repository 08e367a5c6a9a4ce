// Runs vdirsyncer's own vobject.py (the Debian package, 0.19.0 in CI) so the item tests can compare the port
// with the real thing. There is no fallback: if Python or vdirsyncer is missing, the calling test fails.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** One question for vdirsyncer.vobject; the answer has the same index in the result. */
export type PythonRequest =
  | { op: "item"; raw: string }
  | { op: "withUid"; raw: string; uid: string }
  | { op: "split"; text: string }
  | { op: "join"; raws: string[] }
  | { op: "sorted"; lines: string[] }
  | { op: "chars"; upTo: number };

/** What Python said: a value, or the message of the exception it raised. */
export type PythonAnswer = { ok: true; value: unknown } | { ok: false; error: string; type: string };

const SCRIPT = `
import json, sys
import vdirsyncer
import vdirsyncer.vobject as v

def answer(req):
    op = req["op"]
    if op == "item":
        item = v.Item(req["raw"])
        parsed = item.parsed
        return {"uid": item.uid, "hash": item.hash, "normalized": v.normalize_item(req["raw"]),
                "parsed": None if parsed is None else parsed.name}
    if op == "withUid":
        return v.Item(req["raw"]).with_uid(req["uid"]).raw
    if op == "split":
        return list(v.split_collection(req["text"]))
    if op == "join":
        return v.join_collection(req["raws"])
    if op == "sorted":
        return sorted(req["lines"])
    if op == "chars":
        return {"space": [c for c in range(req["upTo"]) if chr(c).isspace()],
                "lineBreak": [c for c in range(req["upTo"]) if len(("a" + chr(c) + "b").splitlines()) > 1]}
    raise KeyError(op)

out = []
for req in json.loads(sys.stdin.buffer.read()):
    try:
        out.append({"ok": True, "value": answer(req)})
    except Exception as e:
        out.append({"ok": False, "error": str(e), "type": type(e).__name__})
sys.stdout.write(json.dumps({"version": vdirsyncer.__version__, "answers": out}))
`;

/** The interpreter that has the vdirsyncer package: `$VDIRSYNCER_PYTHON`, else Debian's, else `python3`. */
export function pythonExecutable(): string {
  return process.env.VDIRSYNCER_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
}

/**
 * Answers all requests in one Python process.
 * @throws {Error} Python or vdirsyncer cannot be run, with Python's stderr in the message
 */
export function askPython(requests: readonly PythonRequest[]): { version: string; answers: PythonAnswer[] } {
  const python = pythonExecutable();
  const run = spawnSync(python, ["-c", SCRIPT], {
    input: JSON.stringify(requests),
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  if (run.error || run.status !== 0) {
    throw new Error(
      `Cannot run vdirsyncer.vobject with ${python} (install python3 and the vdirsyncer package, or set ` +
        `VDIRSYNCER_PYTHON): ${run.error?.message ?? run.stderr}`,
    );
  }
  const result = JSON.parse(run.stdout) as { version: string; answers: PythonAnswer[] };
  if (result.answers.length !== requests.length)
    throw new Error("Python answered a different number of requests.");
  return result;
}
