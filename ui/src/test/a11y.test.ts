// Automated axe-core checks (§11). Colour contrast needs real layout, so it is checked in contrast.test.ts instead.
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { emit, resetEvents } from './events';
import { APP_INFO, NOW, SOURCE_ERRORS, anomaly, cluster, clusterDetail, discoveryStatus, latencyView, overview } from './fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('./events'));

import App from '../App.svelte';

async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

beforeEach(() => {
  history.replaceState(null, '', '#/fleet');
  vi.spyOn(Date, 'now').mockReturnValue(NOW * 1000);
  core.invoke.mockReset();
  resetEvents();
});

describe('axe', () => {
  it('finds no violations on the fleet table', async () => {
    core.invoke.mockResolvedValue(overview());
    render(App);
    await screen.findAllByTestId('cluster-row');
    expect(await violations()).toEqual([]);
  });

  it('finds no violations on the fleet table with health scores, reasons and sparklines', async () => {
    const ids = overview().clusters.map((c) => c.id);
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'fleet_health')
        return {
          fleet: 70,
          unknown: 1,
          at: NOW,
          fleet_history: [],
          clusters: [
            {
              cluster_id: ids[0],
              score: 55,
              basis: 'services',
              reasons: [
                { kind: 'latency', points: 30, detail: 'p95 6.0 s in api' },
                { kind: 'errors', points: 15, detail: 'error rate 5.0 % in api' },
              ],
              history: [
                { at: NOW - 1200, score: 80 },
                { at: NOW - 600, score: 55 },
              ],
            },
            { cluster_id: ids[1], score: 85, basis: 'nodes', reasons: [{ kind: 'node_pressure', points: 15, detail: '1 of 2 nodes above 80 % CPU' }], history: [] },
            { cluster_id: ids[2], score: null, basis: 'none', reasons: [], history: [] },
          ],
        };
      return overview();
    });
    render(App);
    await screen.findByTestId('fleet-health');
    expect(await violations()).toEqual([]);
  });

  it('finds no violations on the empty state', async () => {
    core.invoke.mockResolvedValue(overview([]));
    render(App);
    await screen.findByTestId('fleet-empty');
    expect(await violations()).toEqual([]);
  });

  it('finds no violations on the error panel', async () => {
    core.invoke.mockRejectedValue({ kind: 'cache', message: 'cannot open cache', hint: 'check the data dir' });
    render(App);
    await screen.findByTestId('error-panel');
    expect(await violations()).toEqual([]);
  });

  it('finds no violations with the command palette open', async () => {
    const user = userEvent.setup();
    core.invoke.mockResolvedValue(overview());
    render(App);
    await screen.findAllByTestId('cluster-row');
    await user.keyboard('{Control>}k{/Control}');
    expect(await violations()).toEqual([]);
  });

  it('finds no violations with the sandbox badge, source errors, live progress and a gone cluster', async () => {
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'app_info') return { ...APP_INFO, mode: 'sandbox' };
      return overview(
        [cluster(), cluster({ id: 'aws/prod/us-east-1/old', name: 'old', gone_at: NOW - 600 })],
        discoveryStatus(SOURCE_ERRORS),
      );
    });
    render(App);
    await screen.findByTestId('sandbox-badge');
    await screen.findAllByTestId('source-error');
    emit('discovery-progress', { event: 'planned', provider: 'aws', account: 'prod', scopes: 2 });
    await screen.findByTestId('discovery-progress', {}, { timeout: 2000 });
    expect(await violations()).toEqual([]);
  });

  it('finds no violations on the offline fleet and the "Discovering…" state', async () => {
    core.invoke.mockImplementation(async (cmd: string) =>
      cmd === 'app_info' ? { ...APP_INFO, mode: 'offline' } : overview(),
    );
    const view = render(App);
    await screen.findByTestId('offline-badge');
    expect(await violations()).toEqual([]);
    view.unmount();

    core.invoke.mockImplementation(async (cmd: string) =>
      cmd === 'app_info' ? { ...APP_INFO, mode: 'sandbox' } : overview([]),
    );
    render(App);
    await screen.findByTestId('fleet-discovering');
    expect(await violations()).toEqual([]);
  });

  it('finds no violations on settings', async () => {
    history.replaceState(null, '', '#/settings');
    core.invoke.mockResolvedValue(APP_INFO);
    render(App);
    await screen.findByTestId('settings-version');
    expect(await violations()).toEqual([]);
  });

  it('finds no violations on the Clusters screen with both heatmaps, a tooltip and a stale age', async () => {
    const user = userEvent.setup();
    history.replaceState(null, '', '#/clusters');
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'app_info') return APP_INFO;
      if (cmd === 'fleet_overview') return overview();
      if (cmd === 'cluster_detail')
        return clusterDetail({ age: { collected_at: NOW - 7200, interval_secs: 60, stale: true, reason: 'offline' } });
      if (cmd === 'latency_heatmap') return latencyView();
      throw { kind: 'not_found', message: cmd, hint: '' };
    });
    render(App);
    await screen.findByTestId('cluster-detail');
    await user.click(screen.getByTestId('service-row-checkout-api'));
    await screen.findByTestId('latency-heatmap');
    screen.getByTestId('latency-heatmap-chart').focus();
    await user.keyboard('{ArrowRight}');
    await user.click(screen.getByTestId('range-custom'));
    expect(await violations()).toEqual([]);
  });

  it('finds no violations on the Clusters screen with anomalies, heatmap markers and an anomaly detail', async () => {
    const user = userEvent.setup();
    history.replaceState(null, '', '#/clusters');
    const list = [
      anomaly({ id: 1, severity: 'critical' }),
      anomaly({ id: 2, subject: 'node/node-a', metric: 'cpu_pct', severity: 'medium', causes: [] }),
    ];
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'app_info') return APP_INFO;
      if (cmd === 'fleet_overview') return overview();
      if (cmd === 'cluster_detail') return clusterDetail();
      if (cmd === 'latency_heatmap') return latencyView();
      if (cmd === 'anomalies_list') return { anomalies: list, total: list.length };
      throw { kind: 'not_found', message: cmd, hint: '' };
    });
    render(App);
    await screen.findByTestId('cluster-detail');
    await user.click(screen.getByTestId('service-row-checkout-api'));
    await screen.findByTestId('latency-heatmap');
    const markers = await screen.findAllByTestId('anomaly-marker');
    expect(markers).toHaveLength(2);
    await user.click(markers[markers.length - 1]);
    await screen.findByTestId('anomaly-detail');
    expect(await violations()).toEqual([]);
  });

  it('finds no violations on the Workloads screen', async () => {
    history.replaceState(null, '', '#/workloads');
    core.invoke.mockImplementation(async (cmd: string, args: { query?: { offset: number } }) => {
      if (cmd === 'app_info') return APP_INFO;
      if (cmd === 'fleet_overview') return overview();
      if (cmd === 'workloads_page')
        return {
          rows: Array.from({ length: 50 }, (_, i) => ({
            cluster: cluster().id,
            namespace: 'shop',
            name: `web-${(args.query?.offset ?? 0) + i}`,
            kind: 'Deployment',
            replicas: 2,
            ready: 2,
            collected_at: NOW - 60,
          })),
          total: 50,
          age: { collected_at: NOW - 60, interval_secs: 60, stale: false, reason: null },
        };
      if (cmd === 'workloads_usage') return [];
      throw { kind: 'not_found', message: cmd, hint: '' };
    });
    render(App);
    await screen.findByTestId('workloads-total');
    expect(await violations()).toEqual([]);
  });

  it('finds no violations on the Alerts screen with a selection, the detail and the nav badge', async () => {
    history.replaceState(null, '', '#/alerts');
    const base = {
      key: 'k',
      cluster_id: cluster().id,
      subject: 'service/checkout',
      rule: 'service_p95',
      first_seen: NOW - 600,
      last_seen: NOW - 60,
      count: 2,
      value: 5.5,
      threshold: 5,
      message: 'p95 5.5 s in checkout',
      acknowledged_at: null,
      acknowledged_by: null,
      resolved_at: null,
      resolved_by: null,
      last_notified_at: NOW - 600,
      escalations: 0,
    };
    const alerts = [
      { ...base, id: 1, severity: 'critical', state: 'open' },
      { ...base, id: 2, severity: 'medium', state: 'open', subject: 'service/cart' },
    ];
    core.invoke.mockImplementation(async (cmd: string, args: { query?: { state: string } }) => {
      if (cmd === 'app_info') return APP_INFO;
      if (cmd === 'alerts_list') return alerts.filter((a) => a.state === args.query?.state);
      if (cmd === 'alert_get')
        return { alert: alerts[0], timeline: [{ at: NOW - 600, what: 'opened', actor: 'cloudops', audit_id: null }] };
      throw { kind: 'not_found', message: cmd, hint: '' };
    });
    const user = userEvent.setup();
    render(App);
    const rows = await screen.findAllByTestId('alert-row');
    await screen.findByTestId('alerts-badge');
    await user.click(screen.getByTestId('select-all'));
    await user.click(rows[0]);
    await screen.findByTestId('alert-detail');
    expect(await violations()).toEqual([]);
  });
});
