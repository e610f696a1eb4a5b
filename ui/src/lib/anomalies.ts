// Pure logic behind the anomaly list, its detail and the markers drawn over the heatmaps.
// Times are unix seconds; geometry is in the heatmap SVG's own coordinates (HeatmapView.plot/columns),
// the same mapping the hover and zoom use in heatmap.ts.
import type { Anomaly } from './bindings/Anomaly';
import type { AnomalyMetric } from './bindings/AnomalyMetric';
import type { Cause } from './bindings/Cause';
import type { CauseKind } from './bindings/CauseKind';
import type { HeatmapView } from './bindings/HeatmapView';
import { absoluteTime, formatPct, formatRate, formatSeconds } from './format';

export type AnomalySeverity = Anomaly['severity'];

/** How far back the cluster detail lists closed anomalies. */
export const RECENT_WINDOW_SEC = 7 * 86_400;

const RANK: Record<AnomalySeverity, number> = { medium: 1, high: 2, critical: 3 };

export const METRIC_LABEL: Record<AnomalyMetric, string> = {
  p95_seconds: 'p95 latency',
  error_pct: 'Error rate',
  requests_per_sec: 'Request rate',
  cpu_pct: 'CPU',
  memory_pct: 'Memory',
};

export const CAUSE_LABEL: Record<CauseKind, string> = {
  rollout: 'Rollout',
  error_rate: 'Error rate',
  open_alert: 'Open alert',
  node_pressure: 'Node pressure',
};

/** Open first (they need attention now), then worst, then most recently seen, then newest id. */
export function sortAnomalies(list: readonly Anomaly[]): Anomaly[] {
  return [...list].sort(
    (a, b) =>
      Number(b.state === 'open') - Number(a.state === 'open') ||
      (RANK[b.severity] ?? 0) - (RANK[a.severity] ?? 0) ||
      b.last_seen - a.last_seen ||
      b.id - a.id,
  );
}

/** Merges pages that may overlap (open + recent), keeping one anomaly per id. */
export function mergeAnomalies(...pages: readonly (readonly Anomaly[])[]): Anomaly[] {
  const byId = new Map<number, Anomaly>();
  for (const page of pages) for (const a of page) byId.set(a.id, a);
  return [...byId.values()];
}

/** `service/checkout` → { kind: 'service', name: 'checkout' }; anything else is kept whole as the name. */
export function parseSubject(subject: string): { kind: 'service' | 'node' | 'other'; name: string } {
  const slash = subject.indexOf('/');
  const kind = slash > 0 ? subject.slice(0, slash) : '';
  if (kind === 'service' || kind === 'node') return { kind, name: subject.slice(slash + 1) };
  return { kind: 'other', name: subject };
}

/** A value in its metric's unit: "412 ms", "4.2%", "12.5/s". */
export function formatMetricValue(metric: AnomalyMetric, v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  switch (metric) {
    case 'p95_seconds':
      return formatSeconds(v);
    case 'requests_per_sec':
      return `${formatRate(v)}/s`;
    default:
      return formatPct(v);
  }
}

/** "412 ms against a baseline of 90 ms" (or "no baseline yet"). */
export function valueVsBaseline(a: Pick<Anomaly, 'metric' | 'value' | 'baseline'>): string {
  const v = formatMetricValue(a.metric, a.value);
  return a.baseline === null ? `${v} (no baseline yet)` : `${v} against a baseline of ${formatMetricValue(a.metric, a.baseline)}`;
}

/** The signed peak score with its direction: "+6.2 (above normal)". */
export function formatScore(score: number): string {
  if (!Number.isFinite(score)) return '—';
  const s = `${score >= 0 ? '+' : '−'}${Math.abs(score).toFixed(1)}`;
  return score >= 0 ? `${s} (above normal)` : `${s} (below normal)`;
}

/** A cause as one line: "Rollout: deployment shop/checkout is rolling out … (seen 2026-… UTC)". */
export function formatCause(c: Cause): string {
  const detail = c.detail.trim() || 'no detail recorded';
  return `${CAUSE_LABEL[c.kind] ?? c.kind}: ${detail} (seen ${absoluteTime(c.at)})`;
}

/** The top cause's sentence for the list, or a plain statement that none was found. */
export function topCause(a: Pick<Anomaly, 'causes'>): string {
  const best = [...a.causes].sort((x, y) => y.weight - x.weight)[0];
  return best ? best.detail.trim() || CAUSE_LABEL[best.kind] : 'No probable cause found';
}

/** Causes strongest first (the backend sends them ranked; this keeps it so if a caller did not). */
export function rankedCauses(a: Pick<Anomaly, 'causes'>): Cause[] {
  return [...a.causes].sort((x, y) => y.weight - x.weight);
}

/** When the anomaly stops on a chart: its end, or while open the latest flagged point (at least a point). */
export function anomalyEnd(a: Pick<Anomaly, 'ended_at' | 'last_seen'>): number {
  return a.ended_at ?? a.last_seen;
}

type TimeAxis = Pick<HeatmapView, 'plot' | 'columns'>;

/**
 * Time → x in SVG coordinates, using the heatmap's columns: they tile the plot width evenly, oldest
 * first, so a time inside column i lands in that column's slice, linearly within it. Times before the
 * first or after the last column clamp to the plot's edges; null when the chart has no columns.
 */
export function timeToX(view: TimeAxis, t: number): number | null {
  const { plot, columns } = view;
  const n = columns.length;
  if (n === 0 || plot.width <= 0 || !Number.isFinite(t)) return null;
  const w = plot.width / n;
  if (t <= columns[0].start) return plot.x;
  if (t >= columns[n - 1].end) return plot.x + plot.width;
  for (let i = 0; i < n; i++) {
    const c = columns[i];
    if (t < c.end || i === n - 1) {
      // A gap between columns (no data there) maps to the next column's left edge.
      if (t <= c.start) return plot.x + i * w;
      const span = c.end - c.start;
      const f = span > 0 ? (t - c.start) / span : 0;
      return plot.x + (i + Math.min(1, Math.max(0, f))) * w;
    }
  }
  return plot.x + plot.width;
}

export interface Band {
  id: number;
  severity: AnomalySeverity;
  /** SVG coordinates. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** The anomaly began before / goes on after the visible range. */
  clippedStart: boolean;
  clippedEnd: boolean;
  /** The small text drawn on the marker ("High · p95 latency"). */
  label: string;
  /** The accessible name of the marker's button. */
  title: string;
}

/** The thinnest band drawn, in SVG px, so a one-point anomaly is still visible and clickable. */
export const MIN_BAND_WIDTH = 4;

/**
 * The bands to draw over a heatmap for `anomalies`, in SVG coordinates. Anomalies entirely outside
 * the chart's time span are dropped; the rest are clipped to it. With `rowOf`, a band covers only
 * the row it returns (the node's row on the resource heatmap); an anomaly whose row is not drawn is
 * dropped. Without it, a band spans the plot's full height (the service's latency heatmap).
 * Sorted so the worst is drawn last (on top).
 */
export function anomalyBands(
  view: Pick<HeatmapView, 'plot' | 'columns' | 'rows'>,
  anomalies: readonly Anomaly[],
  rowOf?: (a: Anomaly) => number | null,
): Band[] {
  const { plot, columns, rows } = view;
  if (columns.length === 0 || plot.width <= 0 || plot.height <= 0) return [];
  const first = columns[0].start;
  const last = columns[columns.length - 1].end;
  const bands: Band[] = [];
  for (const a of anomalies) {
    const start = a.started_at;
    const end = Math.max(start, anomalyEnd(a));
    if (end < first || start > last) continue;
    let y = plot.y;
    let height = plot.height;
    if (rowOf) {
      const row = rowOf(a);
      if (row === null || row < 0 || row >= rows.length) continue;
      height = plot.height / rows.length;
      y = plot.y + row * height;
    }
    const x0 = timeToX(view, start);
    const x1 = timeToX(view, end);
    if (x0 === null || x1 === null) continue;
    let x = x0;
    let width = x1 - x0;
    if (width < MIN_BAND_WIDTH) {
      // Widen around the point, kept inside the plot.
      width = Math.min(MIN_BAND_WIDTH, plot.width);
      x = Math.min(Math.max(plot.x, x0 - width / 2), plot.x + plot.width - width);
    }
    const metric = METRIC_LABEL[a.metric] ?? a.metric;
    const sev = a.severity.charAt(0).toUpperCase() + a.severity.slice(1);
    bands.push({
      id: a.id,
      severity: a.severity,
      x,
      y,
      width,
      height,
      clippedStart: start < first,
      clippedEnd: end > last,
      label: `${sev} · ${metric}`,
      title: `${sev} anomaly: ${metric} of ${a.subject}, from ${absoluteTime(start)}${
        a.ended_at === null ? ', still open' : ` to ${absoluteTime(a.ended_at)}`
      }. Open its detail.`,
    });
  }
  return bands.sort((p, q) => (RANK[p.severity] ?? 0) - (RANK[q.severity] ?? 0) || p.x - q.x);
}

/** The service anomalies drawn on that service's latency heatmap. */
export function serviceAnomalies(list: readonly Anomaly[], service: string): Anomaly[] {
  return list.filter((a) => {
    const s = parseSubject(a.subject);
    return s.kind === 'service' && s.name === service;
  });
}

/** The node anomalies for the resource heatmap showing `resource`, and the row of each node. */
export function nodeAnomalyRows(
  list: readonly Anomaly[],
  rows: readonly string[],
  resource: 'cpu' | 'memory',
): { anomalies: Anomaly[]; rowOf: (a: Anomaly) => number | null } {
  const metric: AnomalyMetric = resource === 'cpu' ? 'cpu_pct' : 'memory_pct';
  const anomalies = list.filter((a) => a.metric === metric && parseSubject(a.subject).kind === 'node');
  const rowOf = (a: Anomaly) => {
    const i = rows.indexOf(parseSubject(a.subject).name);
    return i < 0 ? null : i;
  };
  return { anomalies, rowOf };
}
