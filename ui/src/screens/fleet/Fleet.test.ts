import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DiscoveryFinished } from '../../lib/bindings/DiscoveryFinished';
import type { DiscoveryProgress } from '../../lib/bindings/DiscoveryProgress';
import type { FleetOverview } from '../../lib/bindings/FleetOverview';
import { emit, listenerCount, resetEvents } from '../../test/events';
import { CLUSTERS, NOW, SOURCE_ERRORS, cluster, discoveryStatus, overview } from '../../test/fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

import Fleet from './Fleet.svelte';

beforeEach(() => {
  core.invoke.mockReset();
  resetEvents();
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
    // The health scores are read beside the fleet, each time.
    expect(calls('fleet_overview')).toBe(2);
    expect(calls('fleet_health')).toBe(2);
  });
});

/** A backend: fleet_overview answers from `overviews` in turn (the last one repeats); refresh_fleet as given. */
function backend(overviews: FleetOverview[], refresh: () => Promise<unknown> = async () => null) {
  let i = 0;
  core.invoke.mockImplementation(async (cmd: string) => {
    if (cmd === 'fleet_overview') return overviews[Math.min(i++, overviews.length - 1)];
    if (cmd === 'refresh_fleet') return refresh();
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
}

const calls = (cmd: string) => core.invoke.mock.calls.filter(([c]) => c === cmd).length;

async function progress(p: DiscoveryProgress) {
  expect(emit('discovery-progress', p)).toBeGreaterThan(0);
  await tick();
}

async function finished(f: Partial<DiscoveryFinished> = {}) {
  expect(emit('discovery-finished', { clusters: 4, errors: 0, failure: null, breakers: [], ...f })).toBeGreaterThan(0);
  await tick();
}

describe('Fleet screen: gone clusters', () => {
  it('marks a cluster its source no longer lists as gone, dimmed but still listed', async () => {
    backend([overview([cluster(), cluster({ id: 'aws/prod/us-east-1/old', name: 'old', gone_at: NOW - 600 })])]);
    render(Fleet);
    const rows = await screen.findAllByTestId('cluster-row');
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).queryByTestId('cluster-gone')).toBeNull();
    expect(rows[0]).not.toHaveClass('gone');
    const label = within(rows[1]).getByTestId('cluster-gone');
    expect(label).toHaveTextContent(/^gone/);
    expect(label).toHaveAttribute('title', expect.stringMatching(/stopped listing this cluster at .* UTC/));
    expect(rows[1]).toHaveClass('gone');
    expect(screen.getByTestId('fleet-summary')).toHaveTextContent('2 clusters (1 gone)');
  });
});

describe('Fleet screen: source errors', () => {
  it('lists each failed source of the last discovery with provider, account, scope, message and hint', async () => {
    const user = userEvent.setup();
    backend([overview(CLUSTERS, discoveryStatus(SOURCE_ERRORS))]);
    render(Fleet);
    // Partial results: the other sources' clusters are still listed.
    expect(await screen.findAllByTestId('cluster-row')).toHaveLength(4);
    const banner = screen.getByTestId('source-errors');
    expect(banner).toHaveTextContent('Discovery: 2 sources failed (last run 3 min ago)');
    const items = within(banner).getAllByTestId('source-error');
    expect(items).toHaveLength(2);

    // Grouped by provider: aws before gcp.
    const aws = within(items[0]);
    expect(aws.getByTestId('provider-badge')).toHaveTextContent('EKS');
    expect(aws.getByTestId('source-error-account')).toHaveTextContent('prod');
    expect(aws.getByTestId('source-error-scope')).toHaveTextContent('aws/ap-south-1');
    expect(aws.getByTestId('source-error-message')).toHaveTextContent('throttled (429) after 4 attempts');
    expect(aws.getByTestId('source-error-hint')).toHaveTextContent('What to try: Wait a minute and refresh');
    const gcp = within(items[1]);
    expect(gcp.getByTestId('provider-badge')).toHaveTextContent('GKE');
    expect(gcp.getByTestId('source-error-hint')).toHaveTextContent('gcloud auth application-default login');

    await user.click(gcp.getByTestId('copy-source-diagnostics'));
    const copied = await navigator.clipboard.readText();
    expect(copied).toContain('provider: gcp');
    expect(copied).toContain('account: shop-prod');
    expect(copied).toContain('scope: gcp/shop-prod');
    expect(copied).toContain('kind: unauthorized');
    expect(copied).toContain('hint: Run `gcloud auth application-default login`');
  });

  it('shows no banner when the last discovery had no errors', async () => {
    backend([overview(CLUSTERS, discoveryStatus([]))]);
    render(Fleet);
    await screen.findAllByTestId('cluster-row');
    expect(screen.queryByTestId('source-errors')).toBeNull();
    expect(screen.getByTestId('discovery-note')).toHaveTextContent('Last discovery 3 min ago: 4 clusters.');
  });

  it('adds scope_failed events to the banner as they arrive, before the cache knows them', async () => {
    backend([overview(CLUSTERS, discoveryStatus([]))]);
    render(Fleet);
    await screen.findAllByTestId('cluster-row');
    await progress({ event: 'planned', provider: 'azure', account: 'sub-1', scopes: 2 });
    await progress({
      event: 'scope_failed',
      provider: 'azure',
      account: 'sub-1',
      scope: 'subscription sub-1',
      kind: 'timeout',
      message: 'ARM did not answer within 20 s',
    });
    const item = within(screen.getByTestId('source-errors')).getByTestId('source-error');
    expect(within(item).getByTestId('provider-badge')).toHaveTextContent('AKS');
    expect(item).toHaveTextContent('subscription sub-1');
    expect(item).toHaveTextContent('ARM did not answer within 20 s');
    expect(within(item).queryByTestId('source-error-hint')).toBeNull();
  });
});

describe('Fleet screen: discovery progress', () => {
  it('shows per-source progress after ~300 ms and updates it with each event', async () => {
    vi.useFakeTimers();
    backend([overview(CLUSTERS, discoveryStatus([]))]);
    render(Fleet);
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getAllByTestId('cluster-row')).toHaveLength(4);

    await progress({ event: 'planned', provider: 'aws', account: 'prod', scopes: 3 });
    await progress({ event: 'planned', provider: 'gcp', account: 'shop-prod', scopes: 1 });
    await vi.advanceTimersByTimeAsync(250);
    expect(screen.queryByTestId('discovery-progress')).toBeNull();
    await vi.advanceTimersByTimeAsync(100);

    const panel = screen.getByTestId('discovery-progress');
    expect(panel).toHaveAttribute('role', 'status');
    expect(panel).toHaveAttribute('aria-live', 'polite');
    expect(panel).toHaveTextContent('0 of 4 scopes done');
    let sources = within(panel).getAllByTestId('discovery-source');
    expect(sources).toHaveLength(2);
    expect(sources[0]).toHaveTextContent('EKS prod · 0 of 3 regions');
    expect(sources[1]).toHaveTextContent('GKE shop-prod · 0 of 1 project');

    await progress({ event: 'scope_done', provider: 'aws', account: 'prod', scope: 'aws/eu-west-1', clusters: 2, millis: 40 });
    await progress({
      event: 'scope_failed',
      provider: 'aws',
      account: 'prod',
      scope: 'aws/ap-south-1',
      kind: 'throttled',
      message: 'throttled',
    });
    sources = within(panel).getAllByTestId('discovery-source');
    expect(sources[0]).toHaveTextContent('EKS prod · 2 of 3 regions · 1 failed · aws/ap-south-1');
    expect(panel).toHaveTextContent('2 of 4 scopes done · 1 failed · 2 clusters found');
    expect(screen.getByTestId('refresh-fleet')).toHaveAttribute('aria-disabled', 'true');

    await finished();
    expect(screen.queryByTestId('discovery-progress')).toBeNull();
    expect(screen.getByTestId('refresh-fleet')).not.toHaveAttribute('aria-disabled');
  });

  it('names the endpoints whose circuit breaker the last run left open, and clears them when it closes', async () => {
    backend([overview(CLUSTERS, discoveryStatus([])), overview(CLUSTERS, discoveryStatus([])), overview(CLUSTERS, discoveryStatus([]))]);
    render(Fleet);
    await screen.findAllByTestId('cluster-row');
    expect(screen.queryByTestId('breaker-banner')).toBeNull();
    await finished({ breakers: [{ endpoint: 'https://eks.ap-south-1.amazonaws.com', state: 'open' }] });
    const banner = await screen.findByTestId('breaker-banner');
    expect(banner).toHaveTextContent('https://eks.ap-south-1.amazonaws.com');
    expect(banner).toHaveTextContent('circuit open');
    expect(within(banner).getByTestId('breaker')).toHaveAttribute('data-state', 'open');
    await finished({ breakers: [] });
    expect(screen.queryByTestId('breaker-banner')).toBeNull();
  });

  it('reads the cache again when discovery-finished arrives', async () => {
    backend([overview([cluster()], null), overview(CLUSTERS, discoveryStatus([]))]);
    render(Fleet);
    expect(await screen.findAllByTestId('cluster-row')).toHaveLength(1);
    expect(listenerCount('discovery-finished')).toBe(1);
    expect(calls('fleet_overview')).toBe(1);

    await finished();
    await vi.waitFor(() => expect(screen.getAllByTestId('cluster-row')).toHaveLength(4));
    expect(calls('fleet_overview')).toBe(2);
  });

  it('stops listening when unmounted', async () => {
    backend([overview()]);
    const view = render(Fleet);
    await screen.findAllByTestId('cluster-row');
    await vi.waitFor(() => expect(listenerCount('discovery-progress')).toBe(1));
    view.unmount();
    await vi.waitFor(() => expect(listenerCount('discovery-progress')).toBe(0));
    expect(listenerCount('discovery-finished')).toBe(0);
  });

  it('shows a run that could not start as an error with its hint', async () => {
    backend([overview()]);
    render(Fleet);
    await screen.findAllByTestId('cluster-row');
    await finished({
      clusters: 0,
      errors: 1,
      failure: 'the built-in sandbox could not start: port in use — close the other copy',
      breakers: [],
    });
    const panel = screen.getByTestId('error-panel');
    expect(panel).toHaveTextContent('Discovery could not run');
    expect(within(panel).getByTestId('error-message')).toHaveTextContent('the built-in sandbox could not start: port in use');
    expect(within(panel).getByTestId('error-hint')).toHaveTextContent('close the other copy');

    // The next good run clears it.
    await finished();
    expect(screen.queryByTestId('error-panel')).toBeNull();
  });
});

describe('Fleet screen: refresh', () => {
  it('calls refresh_fleet from the button and from R, and shows progress while it runs', async () => {
    const user = userEvent.setup();
    backend([overview(CLUSTERS, discoveryStatus([]))]);
    render(Fleet, { mode: 'live' });
    await screen.findAllByTestId('cluster-row');
    const button = screen.getByTestId('refresh-fleet');
    expect(button).toBeEnabled();
    expect(button).toHaveAttribute('aria-keyshortcuts', 'r');

    await user.click(button);
    expect(core.invoke).toHaveBeenCalledWith('refresh_fleet', undefined);
    expect(button).toHaveAttribute('aria-disabled', 'true');
    expect(await screen.findByTestId('discovery-progress', {}, { timeout: 2000 })).toHaveTextContent('Discovering');
    // A second click while running does not queue another run.
    await user.click(button);
    expect(calls('refresh_fleet')).toBe(1);

    await finished();
    expect(screen.queryByTestId('discovery-progress')).toBeNull();

    screen.getAllByTestId('cluster-row')[0].focus();
    await user.keyboard('r');
    expect(calls('refresh_fleet')).toBe(2);
    await finished();

    // Typing an "r" in the filter is just typing.
    await user.click(screen.getByTestId('fleet-filter'));
    await user.keyboard('r');
    expect(calls('refresh_fleet')).toBe(2);
    // Ctrl+R belongs to the webview.
    await user.click(document.body);
    await user.keyboard('{Control>}r{/Control}');
    expect(calls('refresh_fleet')).toBe(2);
  });

  it('is disabled in offline mode, says why, and ignores R', async () => {
    const user = userEvent.setup();
    backend([overview()]);
    render(Fleet, { mode: 'offline' });
    await screen.findAllByTestId('cluster-row');
    const button = screen.getByTestId('refresh-fleet');
    expect(button).toBeDisabled();
    expect(button).toHaveAccessibleDescription(/Offline mode: showing the cache only/);
    await user.keyboard('r');
    expect(calls('refresh_fleet')).toBe(0);
  });

  it("shows the backend's refusal as an error", async () => {
    const user = userEvent.setup();
    backend([overview()], async () => {
      throw { kind: 'offline', message: 'This window is offline: discovery is off.', hint: 'Restart without --offline.' };
    });
    render(Fleet);
    await screen.findAllByTestId('cluster-row');
    await user.click(screen.getByTestId('refresh-fleet'));
    const panel = await screen.findByTestId('error-panel');
    expect(panel).toHaveTextContent('Could not start a discovery');
    expect(panel).toHaveTextContent('This window is offline');
    expect(panel).toHaveTextContent('Restart without --offline.');
    expect(screen.getByTestId('refresh-fleet')).not.toHaveAttribute('aria-disabled');
  });
});

describe('Fleet screen: first discovery', () => {
  it('says "Discovering…" instead of the empty state while the first run goes, then lists the clusters', async () => {
    backend([overview([]), overview(CLUSTERS, discoveryStatus([]))]);
    render(Fleet);
    await screen.findByTestId('fleet-empty');
    await progress({ event: 'planned', provider: 'aws', account: 'sandbox', scopes: 2 });
    expect(screen.getByTestId('fleet-discovering')).toHaveTextContent('Discovering…');
    expect(screen.queryByTestId('fleet-empty')).toBeNull();

    await finished({ clusters: 12 });
    expect(await screen.findAllByTestId('cluster-row')).toHaveLength(4);
    expect(screen.queryByTestId('fleet-discovering')).toBeNull();
  });

  it('falls back to the empty state when a run finds nothing', async () => {
    backend([overview([]), overview([], discoveryStatus([], 0))]);
    render(Fleet, { mode: 'live' });
    await screen.findByTestId('fleet-discovering');
    await finished({ clusters: 0 });
    expect(await screen.findByTestId('fleet-empty')).toHaveTextContent('Add a cloud account');
    expect(screen.queryByTestId('fleet-discovering')).toBeNull();
  });

  it('on a sandbox start with nothing recorded, assumes a run is going and re-reads the cache until it lands', async () => {
    vi.useFakeTimers();
    backend([overview([]), overview([]), overview(CLUSTERS, discoveryStatus([]))]);
    render(Fleet, { mode: 'sandbox' });
    await vi.advanceTimersByTimeAsync(0);
    // No event arrived (the webview loaded late), yet the first run is surely going.
    expect(screen.getByTestId('fleet-discovering')).toHaveTextContent('sandbox');
    expect(screen.queryByTestId('fleet-empty')).toBeNull();
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls('fleet_overview')).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls('fleet_overview')).toBe(3);
    expect(screen.getAllByTestId('cluster-row')).toHaveLength(4);
    // Recorded now: no more polling.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls('fleet_overview')).toBe(3);
  });

  it('keeps the empty state in offline mode, where nothing discovers', async () => {
    backend([overview([])]);
    render(Fleet, { mode: 'offline' });
    expect(await screen.findByTestId('fleet-empty')).toHaveTextContent('without --offline');
    expect(screen.queryByTestId('fleet-discovering')).toBeNull();
  });
});
