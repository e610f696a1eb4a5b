import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLUSTERS, NOW, cluster, overview } from '../../test/fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);

import Fleet from './Fleet.svelte';

beforeEach(() => {
  core.invoke.mockReset();
  vi.spyOn(Date, 'now').mockReturnValue(NOW * 1000);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('Fleet screen', () => {
  it('renders one row per cluster with badge, node count, pools, health and age', async () => {
    core.invoke.mockResolvedValue(overview());
    render(Fleet);
    const rows = await screen.findAllByTestId('cluster-row');
    expect(core.invoke).toHaveBeenCalledWith('fleet_overview', undefined);
    expect(rows).toHaveLength(4);

    const first = within(rows[0]);
    expect(first.getByTestId('provider-badge')).toHaveTextContent('EKS');
    expect(rows[0]).toHaveTextContent('checkout');
    expect(rows[0]).toHaveTextContent('eu-west-1');
    expect(rows[0]).toHaveTextContent('1.31');
    expect(rows[0]).toHaveTextContent('ACTIVE');
    const cells = rows[0].querySelectorAll('td');
    expect(cells[5]).toHaveTextContent('5'); // 3 + 2 nodes
    expect(cells[6]).toHaveTextContent('2'); // pools
    expect(first.getByTestId('health-badge')).toHaveTextContent('unknown');
    const age = rows[0].querySelector('time')!;
    expect(age).toHaveTextContent('2 min ago');
    expect(age).toHaveAttribute('title', expect.stringMatching(/^Collected \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/));

    expect(within(rows[2]).getByTestId('provider-badge')).toHaveTextContent('AKS');
    expect(rows[2].querySelector('time')).toHaveTextContent('3 h ago');
    expect(rows[2]).toHaveTextContent('stale');
    expect(rows[0]).not.toHaveTextContent('stale');

    expect(screen.getByTestId('fleet-summary')).toHaveTextContent(
      '4 clusters · 4 providers · cache: /home/sre/.local/share/cloudops/cache.sqlite',
    );
  });

  it('filters rows by name, provider, region and status', async () => {
    const user = userEvent.setup();
    core.invoke.mockResolvedValue(overview());
    render(Fleet);
    await screen.findAllByTestId('cluster-row');
    const filter = screen.getByTestId('fleet-filter');
    expect(filter).toHaveAttribute('placeholder', 'Filter clusters  /');

    await user.type(filter, 'gke');
    expect(screen.getAllByTestId('cluster-row')).toHaveLength(1);
    expect(screen.getByTestId('cluster-row')).toHaveTextContent('payments');

    await user.clear(filter);
    await user.type(filter, 'nothing-like-this');
    expect(screen.queryAllByTestId('cluster-row')).toHaveLength(0);
    expect(screen.getByTestId('fleet-no-match')).toHaveTextContent('nothing-like-this');

    await user.keyboard('{Escape}');
    expect(screen.getAllByTestId('cluster-row')).toHaveLength(4);
  });

  it('moves a highlighted row with the arrow keys and selects it with Enter', async () => {
    const user = userEvent.setup();
    core.invoke.mockResolvedValue(overview());
    render(Fleet);
    await screen.findAllByTestId('cluster-row');

    await user.click(screen.getByTestId('fleet-filter'));
    await user.keyboard('{ArrowDown}');
    let rows = screen.getAllByTestId('cluster-row');
    expect(document.activeElement).toBe(rows[0]);
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(document.activeElement).toBe(rows[2]);
    expect(rows[2]).toHaveAttribute('tabindex', '0');
    expect(rows[0]).toHaveAttribute('tabindex', '-1');
    await user.keyboard('{Enter}');
    rows = screen.getAllByTestId('cluster-row');
    expect(rows[2]).toHaveAttribute('aria-selected', 'true');
    expect(rows[0]).toHaveAttribute('aria-selected', 'false');
    await user.keyboard('{End}');
    expect(document.activeElement).toBe(rows[3]);
    await user.keyboard('{Home}{ArrowUp}');
    expect(document.activeElement).toBe(screen.getByTestId('fleet-filter'));
  });

  it('shows a helpful empty state, with copyable commands and the cache path', async () => {
    core.invoke.mockResolvedValue(overview([]));
    render(Fleet);
    const empty = await screen.findByTestId('fleet-empty');
    expect(within(empty).getByRole('heading', { name: 'No clusters in the cache yet' })).toBeInTheDocument();
    const commands = within(empty)
      .getAllByTestId('command-line')
      .map((c) => c.querySelector('code')!.textContent);
    expect(commands).toEqual([
      'cloudops accounts add aws --name prod --profile prod --regions eu-west-1,us-east-1',
      'cloudops refresh --once',
      'cloudops sandbox serve',
    ]);
    expect(within(empty).getAllByTestId('copy-command')).toHaveLength(3);
    expect(empty).toHaveTextContent(/keyring, never to disk/);
    expect(empty).toHaveTextContent(/gcp.*azure.*do.*kubeconfig/);
    expect(empty).toHaveTextContent(/nothing leaves this machine/);
    expect(screen.getByTestId('fleet-cache-path')).toHaveTextContent('/home/sre/.local/share/cloudops/cache.sqlite');
    expect(screen.queryByTestId('cluster-row')).toBeNull();
    expect(screen.queryByTestId('fleet-filter')).toBeNull();
  });

  it('copies a command line to the clipboard', async () => {
    const user = userEvent.setup();
    core.invoke.mockResolvedValue(overview([]));
    render(Fleet);
    const buttons = await screen.findAllByTestId('copy-command');
    await user.click(buttons[2]);
    expect(await navigator.clipboard.readText()).toBe('cloudops sandbox serve');
    expect(buttons[2]).toHaveTextContent('Copied');
  });

  it('renders the error panel on rejection and retries', async () => {
    const user = userEvent.setup();
    core.invoke.mockRejectedValueOnce({
      kind: 'cache',
      message: 'Cannot open the cache at /data/cache.sqlite: database is locked',
      hint: 'Close the other CloudOps window, then retry.',
    });
    render(Fleet);
    const panel = await screen.findByTestId('error-panel');
    expect(panel).toHaveAttribute('role', 'alert');
    expect(panel).toHaveTextContent('database is locked');
    expect(panel).toHaveTextContent('Close the other CloudOps window');

    core.invoke.mockResolvedValueOnce(overview());
    await user.click(within(panel).getByRole('button', { name: 'Retry' }));
    expect(await screen.findAllByTestId('cluster-row')).toHaveLength(4);
    expect(screen.queryByTestId('error-panel')).toBeNull();
  });

  it('shows the loading state only when the cache read is slower than ~300 ms', async () => {
    vi.useFakeTimers();
    core.invoke.mockReturnValue(new Promise(() => {}));
    render(Fleet);
    await vi.advanceTimersByTimeAsync(250);
    expect(screen.queryByTestId('fleet-loading')).toBeNull();
    await vi.advanceTimersByTimeAsync(100);
    expect(screen.getByTestId('fleet-loading')).toHaveTextContent(/Reading the fleet/);
  });

  it('reloads when the reload signal changes', async () => {
    core.invoke.mockResolvedValueOnce(overview([cluster()]));
    const view = render(Fleet, { reloadSignal: 0 });
    expect(await screen.findAllByTestId('cluster-row')).toHaveLength(1);
    core.invoke.mockResolvedValueOnce(overview(CLUSTERS));
    await view.rerender({ reloadSignal: 1 });
    await tick();
    expect(await screen.findAllByTestId('cluster-row')).toHaveLength(4);
    expect(core.invoke).toHaveBeenCalledTimes(2);
  });
});
