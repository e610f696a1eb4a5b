import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterDetail } from '../../lib/bindings/ClusterDetail';
import { emit, resetEvents } from '../../test/events';
import type { Anomaly } from '../../lib/bindings/Anomaly';
import { CLUSTERS, NOW, anomaly, clusterDetail, latencyView, overview } from '../../test/fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

import Clusters from './Clusters.svelte';

type Args = Record<string, unknown>;

function backend(
  detail: (args: Args) => ClusterDetail | Promise<ClusterDetail> = () => clusterDetail(),
  anomalies: (args: Args) => Anomaly[] = () => [],
) {
  core.invoke.mockImplementation(async (cmd: string, args: Args) => {
    if (cmd === 'anomalies_list') {
      const list = anomalies(args);
      return { anomalies: list, total: list.length };
    }
    if (cmd === 'fleet_overview') return overview();
    if (cmd === 'cluster_detail') return detail(args);
    if (cmd === 'latency_heatmap') return latencyView();
    if (cmd === 'chart_export') return { path: '/home/sre/Downloads/checkout-cpu.png', bytes: 1234 };
    if (cmd === 'nodepool_list') {
      return {
        cluster_id: args.cluster,
        provider: 'aws',
        source: 'provider',
        note: null,
        pools: [
          { name: 'general', count: 3, min: 1, max: 6, machine_type: 'm6i.large' },
          { name: 'batch', count: 2, min: 2, max: 2, machine_type: null },
        ],
      };
    }
    if (cmd === 'nodepool_preview') {
      return {
        token: 'c'.repeat(32),
        provider: 'aws',
        cost: null,
        expires_at_ms: 0,
        plan: { cluster_id: args.cluster, pool: args.pool, machine_type: null, from: 2, to: args.count, min: 2, max: 2, changes: [], warnings: [], typed_confirmation: null },
      };
    }
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
}

const callsOf = (cmd: string) => core.invoke.mock.calls.filter(([c]) => c === cmd).map(([, a]) => a as Args);

beforeEach(() => {
  history.replaceState(null, '', '#/clusters');
  core.invoke.mockReset();
  resetEvents();
  vi.spyOn(Date, 'now').mockReturnValue(NOW * 1000);
});

afterEach(() => vi.restoreAllMocks());

describe('Clusters screen', () => {
  it('lists the clusters and shows the first one’s detail from cluster_detail', async () => {
    backend();
    render(Clusters);
    const detail = await screen.findByTestId('cluster-detail');
    const list = screen.getByTestId('cluster-list');
    expect(within(list).getAllByRole('option')).toHaveLength(CLUSTERS.length);
    expect(screen.getByTestId(`cluster-row-${CLUSTERS[0].id}`)).toHaveAttribute('aria-selected', 'true');
    expect(callsOf('cluster_detail')).toEqual([
      { clusterId: CLUSTERS[0].id, range: { kind: 'preset', preset: '1h' }, resource: 'cpu' },
    ]);
    expect(location.hash).toBe(`#/clusters/${encodeURIComponent(CLUSTERS[0].id)}`);

    expect(detail).toHaveTextContent('checkout');
    expect(detail).toHaveTextContent('eu-west-1');
    expect(detail).toHaveTextContent('1.31');
    expect(within(detail).getByTestId('provider-badge')).toHaveTextContent('EKS');
    expect(screen.getByTestId('data-age')).toHaveTextContent('collected 2 min ago');
    expect(detail).not.toHaveClass('stale');

    const nodes = within(screen.getByTestId('nodes-table')).getAllByTestId('node-row');
    expect(nodes).toHaveLength(2);
    expect(nodes[0]).toHaveTextContent(/ip-10-0-1-12.*general.*Ready.*43%.*71%.*93%/);
    expect(nodes[1]).toHaveTextContent(/Not ready.*—.*5\.3%.*10%/);

    expect(screen.getByTestId('resource-heatmap').querySelector('svg')).not.toBeNull();
    const svc = screen.getByTestId('service-row-checkout-api');
    expect(svc).toHaveTextContent(/checkout-api.*12\.5.*0\.4%.*21 ms.*90 ms.*410 ms/);
    expect(screen.getByTestId('service-row-payments')).toHaveTextContent(/500 µs.*1\.2 s.*2\.5 s/);
  });

  it('opens the cluster named in the hash', async () => {
    backend((a) => clusterDetail({ cluster: CLUSTERS.find((c) => c.id === a.clusterId)! }));
    history.replaceState(null, '', `#/clusters/${encodeURIComponent(CLUSTERS[1].id)}`);
    render(Clusters);
    expect(await screen.findByTestId('cluster-detail')).toHaveTextContent('payments');
    expect(callsOf('cluster_detail')[0].clusterId).toBe(CLUSTERS[1].id);
  });

  it('selects another cluster with the arrow keys and Enter', async () => {
    const user = userEvent.setup();
    backend((a) => clusterDetail({ cluster: CLUSTERS.find((c) => c.id === a.clusterId)! }));
    render(Clusters);
    await screen.findByTestId('cluster-detail');
    await user.click(screen.getByTestId('clusters-filter'));
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}{Enter}');
    await waitFor(() => expect(screen.getByTestId('cluster-detail')).toHaveTextContent('search'));
    expect(screen.getByTestId(`cluster-row-${CLUSTERS[2].id}`)).toHaveAttribute('aria-selected', 'true');
    expect(callsOf('cluster_detail').at(-1)!.clusterId).toBe(CLUSTERS[2].id);
  });

  it('asks again with the new range when a preset is chosen, keeping the old view meanwhile', async () => {
    const user = userEvent.setup();
    let release: (d: ClusterDetail) => void = () => {};
    backend((a) => {
      const r = a.range as { preset?: string };
      if (r.preset === '7d') return new Promise<ClusterDetail>((res) => (release = res));
      return clusterDetail();
    });
    render(Clusters);
    await screen.findByTestId('cluster-detail');
    expect(screen.getByTestId('range-1h')).toHaveAttribute('aria-checked', 'true');

    await user.click(screen.getByTestId('range-7d'));
    expect(callsOf('cluster_detail').at(-1)).toEqual({
      clusterId: CLUSTERS[0].id,
      range: { kind: 'preset', preset: '7d' },
      resource: 'cpu',
    });
    // Stale-while-revalidate: the previous detail is still on screen while 7 d loads.
    expect(screen.getByTestId('cluster-detail')).toHaveAttribute('aria-busy', 'true');
    expect(screen.getByTestId('nodes-table')).toBeInTheDocument();
    release(clusterDetail({ nodes: [] }));
    await waitFor(() => expect(screen.getByTestId('cluster-detail')).toHaveAttribute('aria-busy', 'false'));
    expect(screen.getByTestId('nodes-table')).toHaveTextContent('No node samples');

    // The radio group is keyboard-driven: arrows move and select.
    screen.getByTestId('range-7d').focus();
    await user.keyboard('{ArrowRight}');
    expect(callsOf('cluster_detail').at(-1)!.range).toEqual({ kind: 'preset', preset: '30d' });
  });

  it('switches the resource heatmap between CPU and memory', async () => {
    const user = userEvent.setup();
    backend();
    render(Clusters);
    await screen.findByTestId('cluster-detail');
    await user.click(screen.getByTestId('resource-memory'));
    expect(callsOf('cluster_detail').at(-1)!.resource).toBe('memory');
    expect(screen.getByTestId('resource-memory')).toHaveAttribute('aria-checked', 'true');
    // Keyboard: the radio group moves with the arrows.
    await user.keyboard('{ArrowLeft}');
    expect(callsOf('cluster_detail').at(-1)!.resource).toBe('cpu');
    expect(document.activeElement).toBe(screen.getByTestId('resource-cpu'));
  });

  it('applies a custom UTC range', async () => {
    const user = userEvent.setup();
    backend();
    render(Clusters);
    await screen.findByTestId('cluster-detail');
    await user.click(screen.getByTestId('range-custom'));
    const start = screen.getByTestId('range-start');
    const end = screen.getByTestId('range-end');
    await fireEvent.input(start, { target: { value: '2026-11-22T10:00' } });
    await fireEvent.input(end, { target: { value: '2026-11-22T12:30' } });
    await user.click(screen.getByTestId('range-apply'));
    expect(callsOf('cluster_detail').at(-1)!.range).toEqual({
      kind: 'custom',
      start: Date.UTC(2026, 10, 22, 10, 0) / 1000,
      end: Date.UTC(2026, 10, 22, 12, 30) / 1000,
    });
  });

  it('dims a stale panel and says why', async () => {
    backend(() =>
      clusterDetail({
        age: { collected_at: NOW - 3 * 3600, interval_secs: 60, stale: true, reason: 'offline' },
      }),
    );
    render(Clusters);
    const detail = await screen.findByTestId('cluster-detail');
    expect(detail).toHaveClass('stale');
    const age = screen.getByTestId('data-age');
    expect(age).toHaveAttribute('data-stale', 'true');
    expect(age).toHaveTextContent(/Stale: offline — showing data from \d{4}-\d\d-\d\d \d\d:\d\d UTC \(3 h ago\)/);
  });

  it('says what to do when nothing was collected yet', async () => {
    backend(() =>
      clusterDetail({
        age: { collected_at: null, interval_secs: 60, stale: true, reason: 'never collected' },
        nodes: [],
        resource_heatmap: null,
        services: [],
        services_note: 'No Prometheus found in this cluster; set one in Settings.',
      }),
    );
    render(Clusters);
    await screen.findByTestId('cluster-detail');
    expect(screen.getByTestId('data-age')).toHaveTextContent(/No metrics collected yet.*cloudops refresh --once/);
    expect(screen.getByTestId('services-table')).toHaveTextContent('No Prometheus found in this cluster');
    expect(screen.getByTestId('resource-heatmap')).toHaveTextContent('No node samples');
  });

  it('loads a service’s latency heatmap when its row is selected (click or Enter)', async () => {
    const user = userEvent.setup();
    backend();
    render(Clusters);
    await screen.findByTestId('cluster-detail');
    expect(screen.queryByTestId('latency-heatmap')).toBeNull();

    await user.click(screen.getByTestId('service-row-checkout-api'));
    expect(await screen.findByTestId('latency-heatmap')).toBeInTheDocument();
    expect(callsOf('latency_heatmap')).toEqual([
      { clusterId: CLUSTERS[0].id, service: 'checkout-api', range: { kind: 'preset', preset: '1h' } },
    ]);
    expect(screen.getByTestId('service-row-checkout-api')).toHaveAttribute('aria-selected', 'true');

    screen.getByTestId('service-row-checkout-api').focus();
    await user.keyboard('{ArrowDown}{Enter}');
    await waitFor(() => expect(callsOf('latency_heatmap').at(-1)!.service).toBe('payments'));
  });

  it('shows the cell under the keyboard cursor with its quantiles, and zooms on Enter', async () => {
    const user = userEvent.setup();
    backend();
    render(Clusters);
    await screen.findByTestId('cluster-detail');
    await user.click(screen.getByTestId('service-row-checkout-api'));
    await screen.findByTestId('latency-heatmap');
    const chart = screen.getByTestId('latency-heatmap-chart');
    chart.focus();
    // The first arrow enters the chart at the top-left cell; the second moves to column 1.
    await user.keyboard('{ArrowRight}{ArrowRight}');
    const tip = within(screen.getByTestId('latency-heatmap')).getByTestId('heatmap-tooltip');
    expect(tip).toHaveTextContent(/≤ 1 s: 2 requests/);
    expect(tip).toHaveTextContent(/p50 22 ms.*p95 90 ms.*p99 400 ms/);
    expect(screen.getByTestId('latency-heatmap-live')).toHaveTextContent(/≤ 1 s: 2 requests; p50 22 ms/);
    await user.keyboard('{Enter}');
    const col = latencyView().columns[1];
    await waitFor(() =>
      expect(callsOf('cluster_detail').at(-1)!.range).toEqual({ kind: 'custom', start: col.start, end: col.end }),
    );
    expect(screen.getByTestId('range-custom')).toHaveAttribute('aria-checked', 'true');
  });

  it('zooms to the span dragged across the resource heatmap', async () => {
    backend();
    render(Clusters);
    await screen.findByTestId('cluster-detail');
    const chart = screen.getByTestId('resource-heatmap-chart');
    // Rendered at the SVG's own size (500 × 260) at the page origin.
    vi.spyOn(chart, 'getBoundingClientRect').mockReturnValue(DOMRect.fromRect({ x: 0, y: 0, width: 500, height: 260 }));
    await fireEvent.mouseDown(chart, { clientX: 60, clientY: 50, button: 0 });
    await fireEvent.mouseMove(chart, { clientX: 260, clientY: 60 });
    await fireEvent.mouseUp(chart, { clientX: 360, clientY: 60 });
    const cols = clusterDetail().resource_heatmap!.columns;
    await waitFor(() =>
      expect(callsOf('cluster_detail').at(-1)!.range).toEqual({ kind: 'custom', start: cols[0].start, end: cols[3].end }),
    );
  });

  it('shows the hovered cell’s values in a tooltip', async () => {
    backend();
    render(Clusters);
    await screen.findByTestId('cluster-detail');
    const chart = screen.getByTestId('resource-heatmap-chart');
    vi.spyOn(chart, 'getBoundingClientRect').mockReturnValue(DOMRect.fromRect({ x: 0, y: 0, width: 250, height: 130 }));
    // Half size: pixel (130, 70) is SVG (260, 140): column 2, row 1.
    await fireEvent.mouseMove(chart, { clientX: 130, clientY: 70 });
    expect(screen.getByTestId('heatmap-tooltip')).toHaveTextContent(/node-b: 60 % of allocatable/);
    await fireEvent.mouseMove(chart, { clientX: 5, clientY: 5 });
    expect(screen.queryByTestId('heatmap-tooltip')).toBeNull();
  });

  it('exports a chart and shows where it was saved', async () => {
    const user = userEvent.setup();
    backend();
    render(Clusters);
    await screen.findByTestId('cluster-detail');
    const heatmap = screen.getByTestId('resource-heatmap');
    await user.click(within(heatmap).getByTestId('export-png'));
    expect(callsOf('chart_export')).toEqual([
      {
        chart: { kind: 'resource', cluster_id: CLUSTERS[0].id, resource: 'cpu', range: { kind: 'preset', preset: '1h' } },
        format: 'png',
      },
    ]);
    expect(await within(heatmap).findByText('/home/sre/Downloads/checkout-cpu.png')).toBeInTheDocument();
    expect(within(heatmap).getByTestId('export-status')).toHaveTextContent('Saved to');
  });

  it('shows an IPC error with its hint, naming the cluster', async () => {
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'fleet_overview') return overview();
      throw { kind: 'cache', message: 'cannot read metrics: database is locked', hint: 'Close other cloudops processes.' };
    });
    render(Clusters);
    const panel = await screen.findByTestId('error-panel');
    expect(panel).toHaveTextContent(`Could not load cluster checkout (${CLUSTERS[0].id})`);
    expect(within(panel).getByTestId('error-message')).toHaveTextContent('database is locked');
    expect(within(panel).getByTestId('error-hint')).toHaveTextContent('Close other cloudops processes.');
  });

  describe('anomalies', () => {
    const SERVICE = anomaly({ id: 11, severity: 'critical' });
    const NODE = anomaly({ id: 12, subject: 'node/node-b', metric: 'cpu_pct', severity: 'medium', value: 97, baseline: 40, causes: [] });
    const OTHER_SERVICE = anomaly({ id: 13, subject: 'service/payments' });

    it('asks for the open and the last 7 days’ anomalies of the selected cluster and lists them', async () => {
      backend(undefined, () => [SERVICE, NODE, OTHER_SERVICE]);
      render(Clusters);
      await screen.findByTestId('cluster-detail');
      await waitFor(() => expect(screen.getAllByTestId('anomaly-row')).toHaveLength(3));
      const queries = callsOf('anomalies_list').map((a) => a.query);
      expect(queries).toContainEqual({ cluster: CLUSTERS[0].id, state: 'open', since: null, offset: 0, limit: 500 });
      expect(queries).toContainEqual({ cluster: CLUSTERS[0].id, state: null, since: NOW - 7 * 86_400, offset: 0, limit: 500 });
    });

    it('re-reads the anomalies after each collection pass', async () => {
      let list: Anomaly[] = [];
      backend(undefined, () => list);
      render(Clusters);
      expect(await screen.findByTestId('anomalies-empty')).toBeInTheDocument();
      list = [SERVICE];
      emit('collection-finished', { clusters: 1, samples: 10, errors: 0 });
      await waitFor(() => expect(screen.getAllByTestId('anomaly-row')).toHaveLength(1));
    });

    it('marks the node’s anomaly on the resource heatmap and the service’s on its latency heatmap; a marker opens the detail', async () => {
      const user = userEvent.setup();
      backend(undefined, () => [SERVICE, NODE, OTHER_SERVICE]);
      render(Clusters);
      await screen.findByTestId('cluster-detail');
      const resourceMarkers = await within(screen.getByTestId('resource-heatmap')).findAllByTestId('anomaly-marker');
      expect(resourceMarkers.map((m) => m.dataset.anomalyId)).toEqual(['12']);
      expect(resourceMarkers[0]).toHaveTextContent('Medium · CPU');

      await user.click(screen.getByTestId('service-row-checkout-api'));
      const latency = await screen.findByTestId('latency-heatmap');
      const markers = await within(latency).findAllByTestId('anomaly-marker');
      // Only this service's anomaly, not payments'.
      expect(markers.map((m) => m.dataset.anomalyId)).toEqual(['11']);
      expect(markers[0]).toHaveTextContent('Critical · p95 latency');
      expect(markers[0]).toHaveAccessibleName(/Critical anomaly: p95 latency of service\/checkout-api.*still open/);
      // Same mapping as the hover: the band starts at NOW-210 (x = 100 of 500) and ends at NOW-90 (x = 300).
      const band = within(latency).getByTestId('anomaly-band');
      expect(band.style.left).toBe('20%');
      expect(band.style.width).toBe('40%');

      await user.click(markers[0]);
      const detail = screen.getByTestId('anomaly-detail');
      expect(detail).toHaveAttribute('data-anomaly-id', '11');
      expect(detail).toHaveTextContent('412 ms against a baseline of 90 ms');
      expect(within(detail).getAllByTestId('anomaly-cause')).toHaveLength(2);
      expect(document.activeElement?.id).toBe('anomaly-detail-title');
    });
  });

  it('lists the node pools and opens the scale dialog with s on a focused row', async () => {
    backend();
    render(Clusters);
    const section = await screen.findByTestId('nodepools');
    const rows = await within(section).findAllByTestId('nodepool-row');
    expect(callsOf('nodepool_list')).toEqual([{ cluster: CLUSTERS[0].id }]);
    expect(within(section).getByTestId('nodepools-source')).toHaveTextContent('Live from aws');
    expect(rows[0]).toHaveTextContent(/general.*m6i\.large.*3.*1–6 \(autoscaled\)/);
    expect(rows[1]).toHaveTextContent(/batch.*—.*2.*2–2/);
    rows[1].focus();
    await fireEvent.keyDown(rows[1], { key: 's' });
    const dialog = await screen.findByTestId('nodepool-dialog');
    expect(dialog).toHaveTextContent('Scale node pool batch');
    expect(screen.getByTestId('nodepool-count')).toHaveValue('2');
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByTestId('nodepool-dialog')).toBeNull());
    // Another range reloads the view, not the pools (a cloud call).
    await fireEvent.click(screen.getByTestId('range-24h'));
    await waitFor(() => expect(callsOf('cluster_detail')).toHaveLength(2));
    expect(callsOf('nodepool_list')).toHaveLength(1);
  });
});
