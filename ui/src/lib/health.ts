import type { ClusterHealthView } from './bindings/ClusterHealthView';
import type { FleetHealthView } from './bindings/FleetHealthView';
import type { HealthPoint } from './bindings/HealthPoint';
import type { HealthReason } from './bindings/HealthReason';

// §11 health colours. `null` means "no data yet" and must never be shown as a number.
export type HealthLevel = 'good' | 'warn' | 'bad' | 'unknown';

export function healthLevel(score: number | null): HealthLevel {
  if (score === null || !Number.isFinite(score)) return 'unknown';
  if (score >= 90) return 'good';
  if (score >= 70) return 'warn';
  return 'bad';
}

/** "−10.5 p95 2.4 s in checkout": the points lost, then why. */
export function reasonText(r: HealthReason): string {
  return `−${r.points.toFixed(1)} ${r.detail}`;
}

/** Every deduction, one a line, for a tooltip; says so when there is none or the score is unknown. */
export function reasonsTitle(h: ClusterHealthView | undefined): string {
  if (!h || h.score === null) return 'Unknown: no node or service data in the last hour';
  if (h.reasons.length === 0) return 'No deductions in the last hour';
  return h.reasons.map(reasonText).join('\n');
}

/**
 * Guards against a backend that answers something else (an older build, a test double): anything that is not
 * shaped like a FleetHealthView is treated as "no scores", never as a crash.
 */
export function isFleetHealth(v: unknown): v is FleetHealthView {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    Array.isArray(o.clusters) &&
    typeof o.unknown === 'number' &&
    (o.fleet === null || typeof o.fleet === 'number') &&
    o.clusters.every((c) => c !== null && typeof c === 'object' && typeof (c as ClusterHealthView).cluster_id === 'string')
  );
}

/**
 * Stable worst-first order: lowest score first, unknown scores last, and rows with equal scores (or no scores at
 * all) keep their order, so a fleet without scores reads as before.
 */
export function worstFirst<T>(rows: readonly T[], scoreOf: (row: T) => number | null | undefined): T[] {
  const rank = (s: number | null | undefined) => (s === null || s === undefined || !Number.isFinite(s) ? Infinity : s);
  return rows
    .map((row, i) => ({ row, i, s: rank(scoreOf(row)) }))
    .sort((a, b) => (a.s === b.s ? a.i - b.i : a.s - b.s))
    .map((x) => x.row);
}

/**
 * The sparkline as polyline point lists ("x,y x,y …"), one per unbroken run: an unknown score or a gap of more
 * than `maxGap` seconds (the app was not running) breaks the line rather than drawing over missing data. Time maps
 * `from`…`to` onto 0…`width`; score 100 is the top (y = 0), 0 the bottom (y = `height`).
 */
export function sparklineSegments(
  history: readonly HealthPoint[],
  from: number,
  to: number,
  width: number,
  height: number,
  maxGap: number,
): string[] {
  const span = Math.max(1, to - from);
  const segments: string[][] = [];
  let current: string[] | null = null;
  let last: number | null = null;
  for (const p of history) {
    if (p.at < from || p.at > to) continue;
    if (p.score === null || !Number.isFinite(p.score)) {
      current = null;
      continue;
    }
    if (current === null || (last !== null && p.at - last > maxGap)) {
      current = [];
      segments.push(current);
    }
    const x = ((p.at - from) / span) * width;
    const y = height - (Math.max(0, Math.min(100, p.score)) / 100) * height;
    current.push(`${round(x)},${round(y)}`);
    last = p.at;
  }
  return segments.map((s) => s.join(' '));
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
