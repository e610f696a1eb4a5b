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
