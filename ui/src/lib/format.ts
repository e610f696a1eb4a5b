// Formatting helpers shared by every screen. Times are unix seconds, as the cache stores them.

/** "just now", "2 min ago", "3 h ago", "2 d ago". Future times (clock skew) read as "just now". */
export function relativeAge(collectedAt: number, nowSec: number): string {
  const s = Math.floor(nowSec - collectedAt);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** UTC on purpose: SREs compare it with logs from several regions. */
export function absoluteTime(unixSec: number): string {
  const d = new Date(unixSec * 1000);
  if (Number.isNaN(d.getTime())) return 'unknown time';
  return d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

/** Discovery runs every 300 s; §11 calls a panel stale after three missed intervals. */
export const DISCOVERY_INTERVAL_SEC = 300;

export function isStale(collectedAt: number, nowSec: number, intervalSec = DISCOVERY_INTERVAL_SEC): boolean {
  return nowSec - collectedAt > 3 * intervalSec;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return 'unknown';
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Latency in seconds → "850 µs", "12.3 ms", "1.25 s"; null → "—". */
export function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '—';
  if (s < 0.001) return `${Math.round(s * 1_000_000)} µs`;
  if (s < 1) return `${trim(s * 1000)} ms`;
  return `${trim(s)} s`;
}

/** A percentage with one decimal under 10 ("4.2%"), whole above ("42%"); null → "—". */
export function formatPct(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return '—';
  return Math.abs(p) < 10 ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}

/** Requests per second, short: "0.25", "12.5", "1,234". */
export function formatRate(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return '—';
  return r < 100 ? trim(r) : Math.round(r).toLocaleString('en-US');
}

/** CPU cores the Kubernetes way: "250m" under one core, "1.25" above. */
export function formatCores(c: number | null): string {
  if (c === null || !Number.isFinite(c) || c < 0) return '—';
  if (c < 1) return `${Math.round(c * 1000)}m`;
  return trim(c);
}

/** Three significant digits at most, without trailing zeros. */
function trim(v: number): string {
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return String(Number(v.toFixed(digits)));
}

/** "2026-11-22 14:02 → 14:07 UTC" (the date once when both ends share it). */
export function spanUtc(start: number, end: number): string {
  const a = absoluteTime(start).replace(/:\d\d UTC$/, '');
  const b = absoluteTime(end).replace(/:\d\d UTC$/, '');
  const sameDay = a.slice(0, 10) === b.slice(0, 10);
  return `${a} → ${sameDay ? b.slice(11) : b} UTC`;
}
