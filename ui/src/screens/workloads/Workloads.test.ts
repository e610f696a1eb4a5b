import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WorkloadKey } from '../../lib/bindings/WorkloadKey';
import type { WorkloadQuery } from '../../lib/bindings/WorkloadQuery';
import type { WorkloadRow } from '../../lib/bindings/WorkloadRow';
import { FALLBACK_VIEWPORT_PX, OVERSCAN, PAGE_SIZE, ROW_HEIGHT } from '../../lib/workloads';
import { resetEvents } from '../../test/events';
import { CLUSTERS, NOW, overview } from '../../test/fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

import Workloads from './Workloads.svelte';
import { closeLogs, logsPanel } from '../../lib/logsPanel.svelte';

const TOTAL = 30_000;

/** The nth workload of a synthetic 30,000-row fleet (generated on demand, like the backend's pages). */
function row(i: number): WorkloadRow {
  return {
    cluster: CLUSTERS[i % CLUSTERS.length].id,
    namespace: `ns-${i % 40}`,
    name: `deploy-${String(i).padStart(5, '0')}`,
    kind: 'Deployment',
    replicas: 3,
    ready: i % 7 === 0 ? 2 : 3,
    collected_at: NOW - 60,
  };
}

let stale = false;

function backend(total = TOTAL) {
  core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd === 'fleet_overview') return overview();
    if (cmd === 'workloads_page') {
      const q = args.query as WorkloadQuery;
      const n = q.search ? 12 : total;
      const rows = [];
      for (let i = q.offset; i < Math.min(n, q.offset + q.limit); i++) rows.push(row(i));
      return {
        rows,
        total: n,
        age: stale
          ? { collected_at: NOW - 7200, interval_secs: 60, stale: true, reason: 'offline' }
          : { collected_at: NOW - 60, interval_secs: 60, stale: false, reason: null },
      };
    }
    if (cmd === 'workloads_usage') {
      return (args.keys as WorkloadKey[]).map((key) => ({ key, cpu_cores: 0.25, memory_bytes: 256 * 1024 * 1024, sampled_at: NOW }));
    }
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
}

const callsOf = (cmd: string) => core.invoke.mock.calls.filter(([c]) => c === cmd).map(([, a]) => a as Record<string, unknown>);
const pageQueries = () => callsOf('workloads_page').map((a) => a.query as WorkloadQuery);

beforeEach(() => {
  core.invoke.mockReset();
  resetEvents();
  stale = false;
  vi.spyOn(Date, 'now').mockReturnValue(NOW * 1000);
});

afterEach(() => vi.restoreAllMocks());

// jsdom has no layout: the viewport measures 0 px, so the table uses its fallback height.
const VISIBLE = Math.ceil(FALLBACK_VIEWPORT_PX / ROW_HEIGHT);

describe('Workloads screen', () => {
  it('renders only the rows near the viewport of a 30,000-row table, and shows the total', async () => {
    backend();
    render(Workloads);
    expect(await screen.findByTestId('workloads-total')).toHaveTextContent('30,000 workloads');
    const table = screen.getByTestId('workloads-table');
    expect(table).toHaveAttribute('aria-rowcount', String(TOTAL + 1));
    const rows = screen.getAllByTestId('workload-row');
    expect(rows).toHaveLength(VISIBLE + OVERSCAN);
    expect(rows[0]).toHaveTextContent(/checkout.*ns-0.*deploy-00000.*Deployment.*2\/3/);
    expect(rows[0]).toHaveAttribute('aria-rowindex', '2');
    // Only the first page was asked for.
    expect(pageQueries()).toEqual([{ cluster: null, namespace: null, search: null, offset: 0, limit: PAGE_SIZE }]);
    expect(screen.getByTestId('data-age')).toHaveTextContent('collected 1 min ago');
  });

  it('fetches further pages as it scrolls, still rendering only a window', async () => {
    backend();
    render(Workloads);
    await screen.findByTestId('workloads-total');
    const viewport = screen.getByTestId('workloads-table').querySelector('.viewport') as HTMLElement;
    viewport.scrollTop = 15_000 * ROW_HEIGHT;
    await fireEvent.scroll(viewport);
    await waitFor(() => expect(screen.getAllByTestId('workload-row')[OVERSCAN]).toHaveTextContent('deploy-15000'));
    // Row 15,000 starts page 75; the overscan above it reaches into page 74. Nothing in between is fetched.
    expect(pageQueries().map((q) => q.offset)).toEqual([0, 74 * PAGE_SIZE, 75 * PAGE_SIZE]);
    const rows = screen.getAllByTestId('workload-row');
    expect(rows).toHaveLength(VISIBLE + 2 * OVERSCAN);
    expect(rows[0]).toHaveAttribute('aria-rowindex', String(15_000 - OVERSCAN + 2));
  });

  it('debounces the search into one call carrying `search`', async () => {
    const user = userEvent.setup();
    backend();
    render(Workloads);
    await screen.findByTestId('workloads-total');
    await user.type(screen.getByTestId('workloads-search'), 'payments');
    await waitFor(() => expect(screen.getByTestId('workloads-total')).toHaveTextContent('12 workloads'));
    const searches = pageQueries().slice(1);
    expect(searches).toEqual([{ cluster: null, namespace: null, search: 'payments', offset: 0, limit: PAGE_SIZE }]);
    expect(screen.getAllByTestId('workload-row')).toHaveLength(12);
  });

  it('sends the cluster and namespace filters, starting again from the first page', async () => {
    const user = userEvent.setup();
    backend();
    render(Workloads);
    await screen.findByTestId('workloads-total');
    await screen.findByRole('option', { name: 'payments (europe-west1)' });
    await user.selectOptions(screen.getByTestId('workloads-cluster'), CLUSTERS[1].id);
    await waitFor(() => expect(pageQueries()).toHaveLength(2));
    expect(pageQueries()[1]).toEqual({ cluster: CLUSTERS[1].id, namespace: null, search: null, offset: 0, limit: PAGE_SIZE });
    await user.type(screen.getByTestId('workloads-namespace'), 'ns-3');
    await waitFor(() => expect(pageQueries()).toHaveLength(3));
    expect(pageQueries()[2]).toEqual({ cluster: CLUSTERS[1].id, namespace: 'ns-3', search: null, offset: 0, limit: PAGE_SIZE });
  });

  it('asks for live usage for the visible rows only, and shows "—" until it is known', async () => {
    backend();
    render(Workloads);
    await screen.findByTestId('workloads-total');
    expect(screen.getAllByTestId('workload-cpu')[0]).toHaveTextContent('—');
    await waitFor(() => expect(callsOf('workloads_usage')).toHaveLength(1));
    const keys = callsOf('workloads_usage')[0].keys as WorkloadKey[];
    expect(keys).toEqual(
      Array.from({ length: VISIBLE }, (_, i) => ({ cluster: row(i).cluster, namespace: row(i).namespace, name: row(i).name })),
    );
    await waitFor(() => expect(screen.getAllByTestId('workload-cpu')[0]).toHaveTextContent('250m'));
    expect(screen.getAllByTestId('workload-memory')[0]).toHaveTextContent('256.0 MiB');
    // Overscan rows are in the DOM but were not asked for.
    expect(screen.getAllByTestId('workload-cpu')[VISIBLE]).toHaveTextContent('—');
  });

  it('moves the selection with the arrow keys, Home and End, scrolling it into view', async () => {
    const user = userEvent.setup();
    backend();
    render(Workloads);
    await screen.findByTestId('workloads-total');
    const table = screen.getByTestId('workloads-table');
    table.focus();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(table).toHaveAttribute('aria-activedescendant', 'workload-2');
    expect(document.getElementById('workload-2')).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{End}');
    await waitFor(() => expect(screen.getAllByTestId('workload-row').at(-1)).toHaveTextContent('deploy-29999'));
    expect(table).toHaveAttribute('aria-activedescendant', 'workload-29999');
    const viewport = table.querySelector('.viewport') as HTMLElement;
    expect(viewport.scrollTop).toBe(TOTAL * ROW_HEIGHT - FALLBACK_VIEWPORT_PX);
    await user.keyboard('{Home}');
    expect(viewport.scrollTop).toBe(0);
    expect(table).toHaveAttribute('aria-activedescendant', 'workload-0');
  });

  it('opens the logs of the selected deployment with l', async () => {
    const user = userEvent.setup();
    backend();
    render(Workloads);
    await screen.findByTestId('workloads-total');
    const table = screen.getByTestId('workloads-table');
    table.focus();
    await user.keyboard('{ArrowDown}l');
    expect(logsPanel.target).toEqual({
      clusters: [row(1).cluster],
      namespace: row(1).namespace,
      deployment: row(1).name,
      pod: null,
      container: null,
    });
    closeLogs();
  });

  it('opens the failover wizard on the row group with f, and the HPA dialog with h', async () => {
    const user = userEvent.setup();
    backend();
    render(Workloads);
    await screen.findByTestId('workloads-total');
    screen.getByTestId('workloads-table').focus();
    await user.keyboard('{ArrowDown}f');
    await screen.findByTestId('failover-wizard');
    await waitFor(() => expect(callsOf('failover_groups')).toHaveLength(1));
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('failover-wizard')).toBeNull();
    screen.getByTestId('workloads-table').focus();
    await user.keyboard('h');
    await screen.findByTestId('hpa-dialog');
    await waitFor(() =>
      expect(callsOf('hpa_preview')[0]).toEqual({
        cluster: row(1).cluster,
        namespace: row(1).namespace,
        deployment: row(1).name,
        min: null,
        max: null,
        cpuPercent: null,
        memoryPercent: null,
      }),
    );
  });

  it('dims a stale table and says why', async () => {
    stale = true;
    backend();
    render(Workloads);
    await screen.findByTestId('workloads-total');
    expect(screen.getByTestId('screen-workloads')).toHaveClass('stale');
    expect(screen.getByTestId('data-age')).toHaveTextContent(/Stale: offline — showing data from .* \(2 h ago\)/);
  });

  it('shows an error with its hint', async () => {
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'fleet_overview') return overview();
      throw { kind: 'cache', message: 'cannot read workloads', hint: 'Run `cloudops cache check`.' };
    });
    render(Workloads);
    expect(await screen.findByTestId('error-message')).toHaveTextContent('cannot read workloads');
    expect(screen.getByTestId('error-hint')).toHaveTextContent('cloudops cache check');
  });
});
