import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterHealthView } from '../../lib/bindings/ClusterHealthView';
import type { FleetHealthView } from '../../lib/bindings/FleetHealthView';
import { emit, listenerCount, resetEvents } from '../../test/events';
import { CLUSTERS, NOW, overview } from '../../test/fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

import Fleet from './Fleet.svelte';

const [CHECKOUT, PAYMENTS, SEARCH, EDGE] = CLUSTERS.map((c) => c.id);

function clusterHealth(id: string, score: number | null, over: Partial<ClusterHealthView> = {}): ClusterHealthView {
  return { cluster_id: id, score, basis: score === null ? 'none' : 'services', reasons: [], history: [], ...over };
}

function fleetHealth(over: Partial<FleetHealthView> = {}): FleetHealthView {
  return {
    fleet: 74.6,
    unknown: 1,
    at: NOW,
    fleet_history: [],
    clusters: [
      clusterHealth(SEARCH, 55.5, {
        reasons: [
          { kind: 'latency', points: 30, detail: 'p95 6.0 s in search-api' },
          { kind: 'errors', points: 14.5, detail: 'error rate 4.8 % in indexer' },
        ],
        history: [
          { at: NOW - 1800, score: 90 },
          { at: NOW - 1200, score: null },
          { at: NOW - 600, score: 60 },
          { at: NOW, score: 55.5 },
        ],
      }),
      clusterHealth(CHECKOUT, 78.3, {
        reasons: [{ kind: 'latency', points: 10.5, detail: 'p95 2.4 s in checkout' }],
      }),
      clusterHealth(PAYMENTS, 90, { basis: 'nodes' }),
      clusterHealth(EDGE, null),
    ],
    ...over,
  };
}

/** fleet_overview always answers the four clusters; fleet_health answers from `healths` in turn (the last repeats). */
function backend(healths: (FleetHealthView | Error)[]) {
  let i = 0;
  core.invoke.mockImplementation(async (cmd: string) => {
    if (cmd === 'fleet_overview') return overview();
    if (cmd === 'fleet_health') {
      const h = healths[Math.min(i++, healths.length - 1)];
      if (h instanceof Error) throw { kind: 'cache_sqlite', message: h.message, hint: 'Run `cloudops cache check`.' };
      return h;
    }
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
}

const calls = (cmd: string) => core.invoke.mock.calls.filter(([c]) => c === cmd).length;
const ids = () => screen.getAllByTestId('cluster-row').map((r) => r.getAttribute('data-cluster-id'));

beforeEach(() => {
  core.invoke.mockReset();
  resetEvents();
  vi.spyOn(Date, 'now').mockReturnValue(NOW * 1000);
});

afterEach(() => vi.restoreAllMocks());

describe('Fleet screen: health', () => {
  it('shows the fleet score in the header and each cluster as number, icon and colour, unknown in grey', async () => {
    backend([fleetHealth()]);
    render(Fleet);
    const header = await screen.findByTestId('fleet-health');
    expect(header).toHaveTextContent('Fleet health 75');
    expect(header).toHaveTextContent('1 cluster unknown');

    const rows = screen.getAllByTestId('cluster-row');
    const badge = (i: number) => within(rows[i]).getByTestId('health-badge');
    expect(badge(0)).toHaveTextContent(/^56$/);
    expect(badge(0)).toHaveClass('bad');
    expect(badge(1)).toHaveTextContent(/^78$/);
    expect(badge(1)).toHaveClass('warn');
    expect(badge(2)).toHaveTextContent(/^90$/);
    expect(badge(2)).toHaveClass('good');
    // No data is "unknown", never 100.
    expect(badge(3)).toHaveTextContent(/^unknown$/);
    expect(badge(3)).toHaveClass('unknown');
    for (let i = 0; i < 4; i++) expect(badge(i).querySelector('svg')).not.toBeNull();
    expect(within(rows[3]).getByTestId('health-why')).toHaveTextContent('no data in the last hour');
  });

  it('shows the top reason as text and every reason on hover and when expanded', async () => {
    const user = userEvent.setup();
    backend([fleetHealth()]);
    render(Fleet);
    await screen.findByTestId('fleet-health');
    const rows = screen.getAllByTestId('cluster-row');

    const search = within(rows[0]);
    expect(search.getByTestId('health-badge')).toHaveAttribute(
      'title',
      '−30.0 p95 6.0 s in search-api\n−14.5 error rate 4.8 % in indexer',
    );
    const details = search.getByTestId('health-reasons') as HTMLDetailsElement;
    expect(details.querySelector('summary')).toHaveTextContent('−30.0 p95 6.0 s in search-api');
    expect(details.open).toBe(false);
    await user.click(details.querySelector('summary')!);
    expect(details.open).toBe(true);
    expect(search.getAllByTestId('health-reason').map((r) => r.textContent)).toEqual([
      '−30.0 p95 6.0 s in search-api',
      '−14.5 error rate 4.8 % in indexer',
    ]);

    // A single reason needs no expanding; a perfect score says it lost nothing.
    expect(within(rows[1]).getByTestId('health-why')).toHaveTextContent('−10.5 p95 2.4 s in checkout');
    expect(within(rows[1]).queryByTestId('health-reasons')).toBeNull();
    expect(within(rows[2]).getByTestId('health-why')).toHaveTextContent('no deductions');
  });

  it('draws the last 24 h as a sparkline with a gap where the score was unknown', async () => {
    backend([fleetHealth()]);
    render(Fleet);
    await screen.findByTestId('fleet-health');
    const rows = screen.getAllByTestId('cluster-row');
    const spark = within(rows[0]).getByTestId('health-sparkline');
    const runs = spark.querySelectorAll('[data-testid="sparkline-run"]');
    // 90 alone (then unknown), then 60 → 55.5: a dot and a line.
    expect(runs).toHaveLength(2);
    expect(runs[0].tagName.toLowerCase()).toBe('circle');
    expect(runs[0]).toHaveAttribute('cy', '2');
    const line = runs[1];
    expect(line.tagName.toLowerCase()).toBe('polyline');
    expect(line.getAttribute('points')).toBe('95.3,8 96,8.9');
    expect(spark).toHaveAttribute('aria-label', 'Health over the last 24 h: lowest 56, highest 90');
    const empty = within(rows[3]).getByTestId('health-sparkline');
    expect(empty.querySelectorAll('[data-testid="sparkline-run"]')).toHaveLength(0);
    expect(empty).toHaveAttribute('aria-label', 'No health history in the last 24 h');
  });

  it('sorts worst first by default and goes back to the cache order on request', async () => {
    const user = userEvent.setup();
    backend([fleetHealth()]);
    render(Fleet);
    await screen.findByTestId('fleet-health');
    expect(ids()).toEqual([SEARCH, CHECKOUT, PAYMENTS, EDGE]);
    const sort = screen.getByTestId('sort-health');
    expect(sort).toHaveAttribute('aria-pressed', 'true');
    await user.click(sort);
    expect(ids()).toEqual([CHECKOUT, PAYMENTS, SEARCH, EDGE]);
    expect(sort).toHaveAttribute('aria-pressed', 'false');
    await user.click(sort);
    expect(ids()).toEqual([SEARCH, CHECKOUT, PAYMENTS, EDGE]);
  });

  it('reads the scores again after each collection pass', async () => {
    const better = fleetHealth({
      fleet: 95,
      unknown: 0,
      clusters: [
        clusterHealth(CHECKOUT, 91),
        clusterHealth(SEARCH, 96),
        clusterHealth(PAYMENTS, 97),
        clusterHealth(EDGE, 99),
      ],
    });
    backend([fleetHealth(), better]);
    render(Fleet);
    await screen.findByTestId('fleet-health');
    expect(calls('fleet_health')).toBe(1);
    expect(listenerCount('collection-finished')).toBe(1);

    emit('collection-finished', { collected_at: NOW, clusters: 4, clusters_with_problems: 0, samples: 10, failure: null });
    await vi.waitFor(() => expect(screen.getByTestId('fleet-health')).toHaveTextContent('Fleet health 95'));
    expect(calls('fleet_health')).toBe(2);
    expect(screen.getByTestId('fleet-health')).not.toHaveTextContent('unknown');
    expect(ids()).toEqual([CHECKOUT, SEARCH, PAYMENTS, EDGE]);
  });

  it('keeps the fleet on screen when the scores cannot be read, with every cluster unknown', async () => {
    backend([new Error('database is locked')]);
    render(Fleet);
    const note = await screen.findByTestId('health-error');
    expect(note).toHaveTextContent('Health scores are unavailable: database is locked');
    expect(note).toHaveTextContent('cloudops cache check');
    expect(screen.queryByTestId('fleet-health')).toBeNull();
    const rows = screen.getAllByTestId('cluster-row');
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(within(r).getByTestId('health-badge')).toHaveTextContent('unknown');
    expect(ids()).toEqual(CLUSTERS.map((c) => c.id));
    await tick();
  });
});
