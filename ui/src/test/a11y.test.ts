// Automated axe-core checks (§11). Colour contrast needs real layout, so it is checked in contrast.test.ts instead.
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { emit, resetEvents } from './events';
import { APP_INFO, NOW, SOURCE_ERRORS, cluster, discoveryStatus, overview } from './fixtures';

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
});
