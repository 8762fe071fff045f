// @ts-check
/** Small helpers of the bench: sleeping, sums, number formats, ratios and text tables. */

/** A bad option: printed without a stack. */
export class UsageError extends Error {}

/** @param {number[]} values */
export function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

/** @param {number} value @param {number} digits */
export function fmt(value, digits = 0) {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** @param {number} baseline @param {number} ours */
export function ratio(baseline, ours) {
  if (!Number.isFinite(baseline) || !Number.isFinite(ours) || ours === 0) return "n/a";
  return `${fmt(baseline / ours, baseline / ours >= 10 ? 0 : 1)}x`;
}

/** @param {string[][]} rows */
export function table(rows) {
  const widths = (rows[0] ?? []).map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
  return rows
    .map((row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0))).join("  "))
    .join("\n");
}

/**
 * A bench script's `--name value` options: unknown ones are refused, `option` reads a string,
 * `count` a whole number of at least 1 (`2_500` allowed).
 * @param {string[]} args @param {string[]} known
 */
export function cliOptions(args, known) {
  for (const arg of args) if (arg.startsWith("--") && !known.includes(arg.slice(2))) throw new UsageError(`unknown option ${arg} (known: ${known.map((k) => `--${k}`).join(" ")})`);
  /** @param {string} name @param {string} fallback */
  const option = (name, fallback) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 && args[at + 1] !== undefined ? /** @type {string} */ (args[at + 1]) : fallback;
  };
  /** @param {string} name @param {number} fallback */
  const count = (name, fallback) => {
    const n = Number(option(name, String(fallback)).replace(/_/g, ""));
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} needs a whole number of at least 1`);
    return n;
  };
  return { option, count };
}
