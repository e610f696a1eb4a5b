import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import HealthBadge from './HealthBadge.svelte';
import type { ClusterHealthView } from './bindings/ClusterHealthView';
import type { HealthPoint } from './bindings/HealthPoint';
import { healthLevel, isFleetHealth, reasonsTitle, reasonText, sparklineSegments, worstFirst } from './health';

describe('healthLevel (§11 colours)', () => {
  it.each([
    [100, 'good'],
    [90, 'good'],
    [89, 'warn'],
    [70, 'warn'],
    [69, 'bad'],
    [0, 'bad'],
    [null, 'unknown'],
    [Number.NaN, 'unknown'],
  ] as const)('%s → %s', (score, level) => {
    expect(healthLevel(score)).toBe(level);
  });
});

describe('HealthBadge', () => {
  it('says "unknown" with an icon and no number when there is no score', () => {
    render(HealthBadge, { score: null });
    const badge = screen.getByTestId('health-badge');
    expect(badge).toHaveTextContent(/^unknown$/);
    expect(badge).toHaveClass('unknown');
    expect(badge.querySelector('svg')).not.toBeNull();
  });

  it('shows the number next to the icon, never colour alone', () => {
    render(HealthBadge, { score: 72.4 });
    const badge = screen.getByTestId('health-badge');
    expect(badge).toHaveTextContent('72');
    expect(badge).toHaveClass('warn');
    expect(badge.querySelector('svg')).not.toBeNull();
  });
});

describe('health reasons, order and sparkline', () => {
  const view = (over: Partial<ClusterHealthView> = {}): ClusterHealthView => ({
    cluster_id: 'c',
    score: 80,
    basis: 'services',
    reasons: [],
    history: [],
    ...over,
  });

  it('writes a reason as its lost points then its detail', () => {
    expect(reasonText({ kind: 'latency', points: 10.5, detail: 'p95 2.4 s in checkout' })).toBe(
      '−10.5 p95 2.4 s in checkout',
    );
    expect(reasonText({ kind: 'errors', points: 3, detail: 'error rate 1.0 % in api' })).toBe(
      '−3.0 error rate 1.0 % in api',
    );
  });

  it('lists every reason in the tooltip, and says why when there is none', () => {
    const two = view({
      reasons: [
        { kind: 'latency', points: 10.5, detail: 'p95 2.4 s in checkout' },
        { kind: 'errors', points: 2, detail: 'error rate 0.7 % in cart' },
      ],
    });
    expect(reasonsTitle(two)).toBe('−10.5 p95 2.4 s in checkout\n−2.0 error rate 0.7 % in cart');
    expect(reasonsTitle(view({ score: 100 }))).toBe('No deductions in the last hour');
    expect(reasonsTitle(view({ score: null }))).toMatch(/^Unknown/);
    expect(reasonsTitle(undefined)).toMatch(/^Unknown/);
  });

  it('orders worst first, unknown last, and keeps the order of ties', () => {
    const rows = [
      { id: 'a', s: 95 },
      { id: 'b', s: null },
      { id: 'c', s: 40 },
      { id: 'd', s: 95 },
      { id: 'e', s: 71 },
    ];
    expect(worstFirst(rows, (r) => r.s).map((r) => r.id)).toEqual(['c', 'e', 'a', 'd', 'b']);
    const none = [{ id: 'x' }, { id: 'y' }, { id: 'z' }];
    expect(worstFirst(none, () => undefined).map((r) => r.id)).toEqual(['x', 'y', 'z']);
  });

  it('maps history onto the box, breaking the line at unknown scores and long gaps', () => {
    const pts: HealthPoint[] = [
      { at: 0, score: 100 },
      { at: 600, score: 50 },
      { at: 1200, score: null },
      { at: 1800, score: 0 },
      { at: 2400, score: 25 },
      // 3 buckets later: the app was not running in between.
      { at: 4200, score: 75 },
    ];
    expect(sparklineSegments(pts, 0, 6000, 100, 20, 1200)).toEqual([
      '0,0 10,10',
      '30,20 40,15',
      '70,5',
    ]);
    // Points outside the day are left out; no known point, no line.
    expect(sparklineSegments([{ at: -5, score: 90 }], 0, 100, 100, 20, 60)).toEqual([]);
    expect(sparklineSegments([{ at: 10, score: null }], 0, 100, 100, 20, 60)).toEqual([]);
  });

  it('accepts only what looks like a FleetHealthView', () => {
    expect(isFleetHealth({ fleet: null, unknown: 0, at: 1, fleet_history: [], clusters: [] })).toBe(true);
    expect(isFleetHealth({ fleet: 90, unknown: 1, clusters: [view()] })).toBe(true);
    expect(isFleetHealth(undefined)).toBe(false);
    expect(isFleetHealth({ clusters: [{ id: 'x' }], unknown: 0, fleet: null })).toBe(false);
    expect(isFleetHealth({ clusters: [], cache: {} })).toBe(false);
  });
});
