import { describe, expect, it } from 'vitest';
import { NOW, anomaly, heatmapView } from '../test/fixtures';
import {
  MIN_BAND_WIDTH,
  anomalyBands,
  formatCause,
  formatMetricValue,
  formatScore,
  mergeAnomalies,
  nodeAnomalyRows,
  parseSubject,
  serviceAnomalies,
  sortAnomalies,
  timeToX,
  topCause,
  valueVsBaseline,
} from './anomalies';

// heatmapView(): 4 columns of 60 s from NOW-240 to NOW over a plot at x=50, 400 wide (100 px a column),
// y=20, 200 high, rows node-a and node-b.
const view = heatmapView();

describe('timeToX', () => {
  it('maps times through the columns, linearly inside each', () => {
    expect(timeToX(view, NOW - 240)).toBe(50);
    expect(timeToX(view, NOW - 210)).toBe(100);
    expect(timeToX(view, NOW - 180)).toBe(150);
    expect(timeToX(view, NOW - 15)).toBe(425);
    expect(timeToX(view, NOW)).toBe(450);
  });

  it('clamps times outside the chart to its edges and gives null without columns', () => {
    expect(timeToX(view, NOW - 10_000)).toBe(50);
    expect(timeToX(view, NOW + 10_000)).toBe(450);
    expect(timeToX(heatmapView({ columns: [] }), NOW)).toBeNull();
    expect(timeToX(view, NaN)).toBeNull();
  });

  it('follows uneven columns (a gap in the data) rather than assuming a linear axis', () => {
    const gappy = heatmapView({
      columns: [
        { start: 0, end: 60 },
        { start: 600, end: 660 },
      ],
    });
    // Two columns of 200 px: 30 s into the second column is halfway across it.
    expect(timeToX(gappy, 630)).toBe(350);
    // Inside the gap: the second column's left edge.
    expect(timeToX(gappy, 300)).toBe(250);
  });
});

describe('anomalyBands', () => {
  it('draws an open anomaly from its start to its last flagged point, full height', () => {
    // NOW-210 → 100 px, NOW-90 → 300 px.
    const [b] = anomalyBands(view, [anomaly()]);
    expect(b).toMatchObject({ id: 1, severity: 'high', x: 100, width: 200, y: 20, height: 200 });
    expect(b.clippedStart).toBe(false);
    expect(b.clippedEnd).toBe(false);
    expect(b.label).toBe('High · p95 latency');
    expect(b.title).toContain('still open');
  });

  it('ends a closed anomaly at ended_at', () => {
    const [b] = anomalyBands(view, [anomaly({ state: 'closed', last_seen: NOW - 150, ended_at: NOW - 120 })]);
    // NOW-210 → 100 px, NOW-120 → 250 px.
    expect(b.x).toBe(100);
    expect(b.width).toBe(150);
    expect(b.title).not.toContain('still open');
  });

  it('clips to the visible range and says which side goes on', () => {
    const [b] = anomalyBands(view, [anomaly({ started_at: NOW - 5000, last_seen: NOW + 300 })]);
    expect(b.x).toBe(50);
    expect(b.width).toBe(400);
    expect(b.clippedStart).toBe(true);
    expect(b.clippedEnd).toBe(true);
  });

  it('drops anomalies entirely outside the range', () => {
    const before = anomaly({ id: 2, started_at: NOW - 9000, last_seen: NOW - 8000, ended_at: NOW - 7990, state: 'closed' });
    const after = anomaly({ id: 3, started_at: NOW + 60, last_seen: NOW + 120 });
    expect(anomalyBands(view, [before, after])).toEqual([]);
  });

  it('widens a one-point anomaly so it stays visible, inside the plot', () => {
    const [b] = anomalyBands(view, [anomaly({ started_at: NOW, last_seen: NOW })]);
    expect(b.width).toBe(MIN_BAND_WIDTH);
    expect(b.x + b.width).toBe(450);
  });

  it('puts node anomalies on their node’s row and skips nodes not drawn', () => {
    const list = [
      anomaly({ id: 5, subject: 'node/node-b', metric: 'cpu_pct' }),
      anomaly({ id: 6, subject: 'node/node-z', metric: 'cpu_pct' }),
      anomaly({ id: 7, subject: 'node/node-a', metric: 'memory_pct' }),
    ];
    const { anomalies, rowOf } = nodeAnomalyRows(list, view.rows, 'cpu');
    expect(anomalies.map((a) => a.id)).toEqual([5, 6]);
    const bands = anomalyBands(view, anomalies, rowOf);
    expect(bands).toHaveLength(1);
    expect(bands[0]).toMatchObject({ id: 5, y: 120, height: 100 });
  });

  it('draws the worst last so it sits on top', () => {
    const bands = anomalyBands(view, [
      anomaly({ id: 1, severity: 'critical' }),
      anomaly({ id: 2, severity: 'medium' }),
      anomaly({ id: 3, severity: 'high' }),
    ]);
    expect(bands.map((b) => b.id)).toEqual([2, 3, 1]);
  });
});

describe('sorting and merging', () => {
  it('puts open first, then the worst, then the most recently seen', () => {
    const sorted = sortAnomalies([
      anomaly({ id: 1, state: 'closed', severity: 'critical', last_seen: NOW }),
      anomaly({ id: 2, severity: 'medium', last_seen: NOW }),
      anomaly({ id: 3, severity: 'critical', last_seen: NOW - 600 }),
      anomaly({ id: 4, severity: 'critical', last_seen: NOW - 60 }),
      anomaly({ id: 5, state: 'closed', severity: 'critical', last_seen: NOW - 3600 }),
    ]);
    expect(sorted.map((a) => a.id)).toEqual([4, 3, 2, 1, 5]);
  });

  it('merges overlapping pages by id, the later copy winning', () => {
    const merged = mergeAnomalies([anomaly({ id: 1 }), anomaly({ id: 2 })], [anomaly({ id: 2, severity: 'critical' })]);
    expect(merged).toHaveLength(2);
    expect(merged.find((a) => a.id === 2)?.severity).toBe('critical');
  });

  it('picks a service’s anomalies by subject, not by prefix', () => {
    const list = [anomaly({ id: 1 }), anomaly({ id: 2, subject: 'service/checkout-api-v2' }), anomaly({ id: 3, subject: 'node/checkout-api' })];
    expect(serviceAnomalies(list, 'checkout-api').map((a) => a.id)).toEqual([1]);
  });
});

describe('formatting', () => {
  it('formats causes with their kind and evidence time', () => {
    const c = anomaly().causes[0];
    expect(formatCause(c)).toBe(
      'Rollout: deployment shop/checkout-api is rolling out (2 of 4 replicas updated) (seen 2025-11-22 08:23:00 UTC)',
    );
    expect(formatCause({ ...c, detail: '  ' })).toContain('Rollout: no detail recorded');
  });

  it('gives the strongest cause for the list, or says there is none', () => {
    const a = anomaly();
    expect(topCause({ causes: [...a.causes].reverse() })).toContain('rolling out');
    expect(topCause({ causes: [] })).toBe('No probable cause found');
  });

  it('shows values in the metric’s unit against the baseline', () => {
    expect(valueVsBaseline(anomaly())).toBe('412 ms against a baseline of 90 ms');
    expect(valueVsBaseline(anomaly({ metric: 'error_pct', value: 12.5, baseline: null }))).toBe('13% (no baseline yet)');
    expect(formatMetricValue('requests_per_sec', 3.5)).toBe('3.5/s');
    expect(formatMetricValue('cpu_pct', 4.25)).toBe('4.3%');
  });

  it('signs the score and says its direction', () => {
    expect(formatScore(6.25)).toBe('+6.3 (above normal)');
    expect(formatScore(-4)).toBe('−4.0 (below normal)');
  });

  it('splits subjects into kind and name', () => {
    expect(parseSubject('service/checkout-api')).toEqual({ kind: 'service', name: 'checkout-api' });
    expect(parseSubject('node/ip-10-0-1-12')).toEqual({ kind: 'node', name: 'ip-10-0-1-12' });
    expect(parseSubject('pod/x')).toEqual({ kind: 'other', name: 'pod/x' });
  });
});
