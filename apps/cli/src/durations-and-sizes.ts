/**
 * Durations and sizes as the trash commands read them (`30d`, `100M`) and print them (`12.3 MiB`).
 */
import { UserError } from "@vdirsyncer/core/engine";

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/**
 * A duration such as `30d`, `12h`, `90m`, `2w` or `45s`; a bare number means days.
 * @throws {UserError} anything else
 */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/i.exec(text);
  if (!m) {
    throw new UserError(`Invalid duration ${JSON.stringify(text)} for --older-than.`, {
      hint: "Write a number and a unit: 30d, 12h, 90m, 2w (a bare number means days).",
    });
  }
  return Number(m[1]) * (UNITS[(m[2] || "d").toLowerCase()] as number);
}

const SIZES: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * A size such as `100M`, `1G`, `500K` or `2048` (bytes); `KB`, `KiB` and friends mean the same powers of 1024.
 * @throws {UserError} anything else
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmg])i?b?|(b)?)\s*$/i.exec(text);
  if (!m) {
    throw new UserError(`Invalid size ${JSON.stringify(text)} for --max-size.`, {
      hint: "Write a number and a unit: 100M, 1G, 500K (a bare number means bytes).",
    });
  }
  return Math.floor(Number(m[1]) * (SIZES[(m[2] ?? m[3] ?? "").toLowerCase()] as number));
}

/** `12.3 MiB`, `512 B`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
