/** Pure formatting for the dashboard: relative times, client-type counts, JSON previews. */
import type { ClientTypeCounts, JsonValue } from "../party/protocol/index.ts";

/** "now", "12 s ago", "5 min ago", "3 h ago", "2 d ago" (or "in 4 s" for a time ahead). */
export function relativeTime(at: number, now: number): string {
  const diff = now - at;
  const ahead = diff < 0;
  const s = Math.abs(diff) / 1000;
  if (s < 1) return "now";
  const [value, unit] = s < 60 ? [s, "s"] : s < 3600 ? [s / 60, "min"] : s < 86_400 ? [s / 3600, "h"] : [s / 86_400, "d"];
  const text = `${Math.floor(value)} ${unit}`;
  return ahead ? `in ${text}` : `${text} ago`;
}

/** `{web: 2, app: 1}` as "web×2 app". */
export function clientTypesText(types: ClientTypeCounts | undefined): string {
  if (!types) return "";
  return Object.entries(types)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([type, n]) => (n === 1 ? type : `${type}×${n}`))
    .join(" ");
}

/** A JSON value on one line, cut to `max` characters. */
export function jsonPreview(value: JsonValue | undefined, max = 80): string {
  if (value === undefined || value === null) return "";
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A clock time for the event log: "14:03:07". */
export function clockTime(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}
