import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Mode } from './lib/bindings/Mode';
import { readOnly } from './lib/readOnly.svelte';
import { emit, resetEvents } from './test/events';
import { APP_INFO, NOW, discoveryStatus, overview } from './test/fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('./test/events'));

import App from './App.svelte';

function backend(mode: Mode = APP_INFO.mode) {
  core.invoke.mockImplementation(async (cmd: string) => {
    if (cmd === 'fleet_overview') return overview(undefined, discoveryStatus());
    if (cmd === 'app_info') return { ...APP_INFO, mode };
    if (cmd === 'refresh_fleet') return null;
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
}

const calls = (cmd: string) => core.invoke.mock.calls.filter(([c]) => c === cmd).length;

beforeEach(() => {
  history.replaceState(null, '', '#/fleet');
  vi.spyOn(Date, 'now').mockReturnValue(NOW * 1000);
  resetEvents();
  readOnly.enabled = false;
  core.invoke.mockReset();
  backend();
});

afterEach(() => vi.restoreAllMocks());

async function setup() {
  const user = userEvent.setup();
  render(App);
  await screen.findAllByTestId('cluster-row');
  return user;
}

const SCREEN_IDS = ['fleet', 'clusters', 'workloads', 'alerts', 'cost', 'actions', 'settings'];

describe('navigation rail', () => {
  it('lists every screen in a labelled nav and marks the current one', async () => {
    await setup();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    const buttons = within(nav).getAllByRole('button').filter((b) => b.dataset.testid?.startsWith('nav-'));
    expect(buttons.map((b) => b.textContent?.trim())).toEqual([
      'Fleet',
      'Clusters',
      'Workloads',
      'Alerts',
      'Cost',
      'Actions',
      'Settings',
    ]);
    expect(screen.getByTestId('nav-fleet')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('nav-cost')).not.toHaveAttribute('aria-current');
  });

  it('switches screens, updates the title, aria-current and the hash', async () => {
    const user = await setup();
    await user.click(screen.getByTestId('nav-cost'));
    expect(screen.getByTestId('screen-cost')).toBeInTheDocument();
    expect(screen.getByTestId('screen-title')).toHaveTextContent('Cost');
    expect(screen.getByTestId('nav-cost')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('nav-fleet')).not.toHaveAttribute('aria-current');
    expect(location.hash).toBe('#/cost');
  });

  it('is keyboard drivable with the arrow keys', async () => {
    const user = await setup();
    screen.getByTestId('nav-fleet').focus();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(document.activeElement).toBe(screen.getByTestId('nav-workloads'));
    await user.keyboard('{Enter}');
    expect(screen.getByTestId('screen-workloads')).toBeInTheDocument();
    await user.keyboard('{ArrowUp}{ArrowUp}{ArrowUp}');
    expect(document.activeElement).toBe(screen.getByTestId('nav-settings'));
  });

  it('the cost screen reads the cost view and shows a refusal as an error, not a placeholder', async () => {
    const user = await setup();
    await user.click(screen.getByTestId('nav-cost'));
    await vi.waitFor(() => expect(calls('cost_view')).toBe(1));
    expect(await screen.findByText(/Could not read the cost/)).toBeInTheDocument();
    expect(screen.getByTestId('screen-cost')).not.toHaveTextContent('Arrives with issue');
  });

  it('shows the Read-only badge in the top bar when the setting is on', async () => {
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'read_only_get') return true;
      if (cmd === 'fleet_overview') return overview(undefined, discoveryStatus());
      if (cmd === 'app_info') return APP_INFO;
      throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
    });
    render(App);
    expect(await screen.findByTestId('read-only-badge')).toHaveTextContent('Read-only');
  });

  it('badges Alerts with the open, unacknowledged count and follows alerts-changed', async () => {
    let open = 2;
    core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      if (cmd === 'alerts_list') {
        expect(args.query).toEqual({ state: 'open', cluster: null, limit: 1000 });
        return Array.from({ length: open }, (_, i) => ({ id: i + 1 }));
      }
      if (cmd === 'fleet_overview') return overview(undefined, discoveryStatus());
      if (cmd === 'app_info') return APP_INFO;
      throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
    });
    render(App);
    const badge = await screen.findByTestId('alerts-badge');
    expect(badge).toHaveTextContent('2 open, unacknowledged');
    open = 0;
    emit('alerts-changed', { evaluated_at: NOW, clusters: 1, opened: 0, folded: 0, escalated: 0, resolved: 2, notify: [] });
    await vi.waitFor(() => expect(screen.queryByTestId('alerts-badge')).toBeNull());
  });

  it('opens the screen named in the hash', async () => {
    history.replaceState(null, '', '#/settings');
    render(App);
    expect(await screen.findByTestId('settings-version')).toHaveTextContent('0.1.0');
  });

  it('gives every screen a screen-<name> root', async () => {
    const user = await setup();
    for (const id of SCREEN_IDS) {
      await user.click(screen.getByTestId(`nav-${id}`));
      expect(screen.getByTestId(`screen-${id}`)).toBeInTheDocument();
    }
  });
});

describe('command palette', () => {
  it('opens with Ctrl+K, closes with Esc and returns focus', async () => {
    const user = await setup();
    const start = screen.getByTestId('nav-alerts');
    start.focus();
    await user.keyboard('{Control>}k{/Control}');
    const palette = screen.getByTestId('command-palette');
    expect(palette).toHaveAttribute('role', 'dialog');
    expect(palette).toHaveAttribute('aria-modal', 'true');
    expect(document.activeElement).toBe(screen.getByTestId('palette-input'));
    expect(screen.getAllByTestId('palette-item').length).toBeGreaterThanOrEqual(9);

    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('command-palette')).toBeNull();
    expect(document.activeElement).toBe(start);
  });

  it('opens with Cmd+K too, even while typing in the filter', async () => {
    const user = await setup();
    await user.click(screen.getByTestId('fleet-filter'));
    await user.keyboard('{Meta>}k{/Meta}');
    expect(screen.getByTestId('command-palette')).toBeInTheDocument();
  });

  it('jumps with :cl then Enter to Clusters', async () => {
    const user = await setup();
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard(':cl');
    const items = screen.getAllByTestId('palette-item');
    expect(items).toHaveLength(1);
    expect(items[0]).toHaveTextContent('Go to Clusters');
    await user.keyboard('{Enter}');
    expect(screen.queryByTestId('command-palette')).toBeNull();
    expect(screen.getByTestId('screen-clusters')).toBeInTheDocument();
    expect(document.activeElement).toBe(screen.getByTestId('screen-title'));
  });

  it('moves with the arrow keys and runs the highlighted command', async () => {
    const user = await setup();
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard('go to');
    await user.keyboard('{ArrowDown}{ArrowDown}');
    const items = screen.getAllByTestId('palette-item');
    expect(items[2]).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByTestId('palette-input')).toHaveAttribute('aria-activedescendant', items[2].id);
    await user.keyboard('{ArrowUp}{Enter}');
    expect(screen.getByTestId('screen-clusters')).toBeInTheDocument();
  });

  it('runs a command on click', async () => {
    const user = await setup();
    await user.click(screen.getByTestId('open-palette'));
    await user.type(screen.getByTestId('palette-input'), 'settings');
    await user.click(screen.getAllByTestId('palette-item')[0]);
    expect(screen.getByTestId('screen-settings')).toBeInTheDocument();
  });

  it('opens a cluster on the Clusters screen from the palette', async () => {
    const user = await setup();
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard('open cluster payments');
    const item = await screen.findByText('Open cluster payments');
    expect(item.closest('[data-testid="palette-item"]')).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{Enter}');
    expect(screen.getByTestId('screen-clusters')).toBeInTheDocument();
    expect(location.hash).toBe(`#/clusters/${encodeURIComponent('gcp/shop-prod/europe-west1/payments')}`);
    await vi.waitFor(() =>
      expect(core.invoke).toHaveBeenCalledWith('cluster_detail', {
        clusterId: 'gcp/shop-prod/europe-west1/payments',
        range: { kind: 'preset', preset: '1h' },
        resource: 'cpu',
      }),
    );
    expect(screen.getByTestId('cluster-row-gcp/shop-prod/europe-west1/payments')).toHaveAttribute('aria-selected', 'true');
  });

  it('"Reload fleet" reads the cache again', async () => {
    const user = await setup();
    expect(calls('fleet_overview')).toBe(1);
    await user.keyboard('{Control>}k{/Control}reload{Enter}');
    // One read for the palette's "Open cluster …" entries, one for the reload itself.
    await vi.waitFor(() => expect(calls('fleet_overview')).toBe(3));
    expect(core.invoke).toHaveBeenCalledWith('fleet_overview', undefined);
    // The reload reads the health scores again too.
    await vi.waitFor(() => expect(calls('fleet_health')).toBe(2));
    expect(calls('refresh_fleet')).toBe(0);
  });

  it('"Refresh fleet" asks the backend to discover now, from any screen', async () => {
    const user = await setup();
    await user.click(screen.getByTestId('nav-cost'));
    await user.keyboard('{Control>}k{/Control}refresh fleet{Enter}');
    await vi.waitFor(() => expect(calls('refresh_fleet')).toBe(1));
    expect(screen.getByTestId('screen-fleet')).toBeInTheDocument();
    expect(screen.getByTestId('refresh-fleet')).toHaveAttribute('aria-disabled', 'true');
  });

  it('"Focus filter" focuses the fleet filter', async () => {
    const user = await setup();
    await user.keyboard('{Control>}k{/Control}focus filter{Enter}');
    expect(document.activeElement).toBe(screen.getByTestId('fleet-filter'));
  });

  it('hides "Focus filter" on a screen without a filter', async () => {
    const user = await setup();
    await user.click(screen.getByTestId('nav-cost'));
    await user.keyboard('{Control>}k{/Control}');
    const titles = screen.getAllByTestId('palette-item').map((i) => i.textContent);
    expect(titles.some((t) => t?.startsWith('Focus filter'))).toBe(false);
  });

  it('makes the rest of the app inert while open', async () => {
    const user = await setup();
    await user.keyboard('{Control>}k{/Control}');
    // Svelte sets the `inert` property; jsdom has no inert IDL attribute, so read the property back.
    const shell = screen.getByRole('navigation', { name: 'Main', hidden: true }).parentElement as HTMLElement;
    expect(shell.inert).toBe(true);
    await user.keyboard('{Escape}');
    expect(shell.inert).toBe(false);
  });
});

describe('/ shortcut', () => {
  it('focuses the fleet filter from anywhere but a text field', async () => {
    const user = await setup();
    screen.getByTestId('nav-fleet').focus();
    await user.keyboard('/');
    const filter = screen.getByTestId('fleet-filter') as HTMLInputElement;
    expect(document.activeElement).toBe(filter);
    expect(filter.value).toBe('');
  });

  it('types a slash when focus is already in an input', async () => {
    const user = await setup();
    const filter = screen.getByTestId('fleet-filter') as HTMLInputElement;
    await user.click(filter);
    await user.keyboard('eu/');
    expect(filter.value).toBe('eu/');
  });
});

describe('run-mode badges', () => {
  it('shows a persistent Sandbox badge on every screen in sandbox mode', async () => {
    backend('sandbox');
    const user = await setup();
    const badge = await screen.findByTestId('sandbox-badge');
    expect(badge).toHaveTextContent(/^◆?Sandbox/);
    const note = 'Simulated fleet — not production. Add an account in Settings to use your clouds.';
    expect(badge).toHaveAttribute('title', note);
    // Screen readers get the explanation too, not only mouse users.
    expect(badge).toHaveTextContent(note);
    expect(screen.queryByTestId('offline-badge')).toBeNull();
    for (const id of SCREEN_IDS) {
      await user.click(screen.getByTestId(`nav-${id}`));
      expect(screen.getByTestId('sandbox-badge')).toBeVisible();
    }
  });

  it('shows no mode badge on live clouds', async () => {
    backend('live');
    await setup();
    await vi.waitFor(() => expect(calls('app_info')).toBeGreaterThan(0));
    await tick();
    expect(screen.queryByTestId('sandbox-badge')).toBeNull();
    expect(screen.queryByTestId('offline-badge')).toBeNull();
  });

  it('shows an Offline badge in offline mode, and drops "Refresh fleet" from the palette', async () => {
    backend('offline');
    const user = await setup();
    const badge = await screen.findByTestId('offline-badge');
    expect(badge).toHaveTextContent('Offline');
    expect(badge).toHaveAttribute('title', expect.stringContaining('cache only, no network'));
    expect(screen.queryByTestId('sandbox-badge')).toBeNull();
    expect(screen.getByTestId('refresh-fleet')).toBeDisabled();
    await user.keyboard('{Control>}k{/Control}');
    const titles = screen.getAllByTestId('palette-item').map((i) => i.textContent ?? '');
    expect(titles.some((t) => t.startsWith('Refresh fleet'))).toBe(false);
    expect(titles.some((t) => t.startsWith('Reload fleet'))).toBe(true);
  });

  it('shows no badge when app_info fails, rather than a guess', async () => {
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'fleet_overview') return overview();
      throw { kind: 'cache', message: 'locked', hint: '' };
    });
    await setup();
    await vi.waitFor(() => expect(calls('app_info')).toBeGreaterThan(0));
    await tick();
    expect(screen.queryByTestId('sandbox-badge')).toBeNull();
    expect(screen.queryByTestId('offline-badge')).toBeNull();
  });
});

describe('discovery across screens', () => {
  it('keeps the progress of a run that started while another screen was open', async () => {
    const user = await setup();
    await user.click(screen.getByTestId('nav-settings'));
    emit('discovery-progress', { event: 'planned', provider: 'do', account: 'team', scopes: 1 });
    emit('discovery-progress', {
      event: 'scope_done',
      provider: 'do',
      account: 'team',
      scope: 'all regions',
      clusters: 1,
      millis: 12,
    });
    await user.click(screen.getByTestId('nav-fleet'));
    const panel = await screen.findByTestId('discovery-progress', {}, { timeout: 2000 });
    expect(within(panel).getByTestId('discovery-source')).toHaveTextContent('DOKS team · 1 of 1 scope · all regions');
  });
});
