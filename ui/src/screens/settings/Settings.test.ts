import { render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { APP_INFO } from '../../test/fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);

import Settings from './Settings.svelte';

/** Answers `app_info` with `info` (or rejects with it) and `accounts_list` with no accounts. */
function backend(info: unknown, reject = false) {
  core.invoke.mockImplementation(async (cmd: string) => {
    if (cmd === 'accounts_list') return [];
    if (reject) throw info;
    return info;
  });
}

beforeEach(() => {
  core.invoke.mockReset();
});

describe('Settings screen', () => {
  it('shows version, data dir, cache path, schema version and size from app_info', async () => {
    backend(APP_INFO);
    render(Settings);
    expect(await screen.findByTestId('settings-version')).toHaveTextContent('0.1.0');
    expect(core.invoke).toHaveBeenCalledWith('app_info', undefined);
    expect(screen.getByTestId('settings-data-dir')).toHaveTextContent('/home/sre/.local/share/cloudops');
    expect(screen.getByTestId('settings-cache-path')).toHaveTextContent('/home/sre/.local/share/cloudops/cache.sqlite');
    expect(screen.getByTestId('settings-schema-version')).toHaveTextContent('3');
    expect(screen.getByTestId('settings-cache-size')).toHaveTextContent('1.5 MiB');
  });

  it.each([
    ['sandbox', 'Sandbox', 'not production'],
    ['live', 'Live', 'Your cloud accounts'],
    ['offline', 'Offline', 'cache only, no network'],
  ] as const)('shows the %s mode with what it means', async (mode, label, note) => {
    backend({ ...APP_INFO, mode });
    render(Settings);
    const dd = await screen.findByTestId('settings-mode');
    expect(dd).toHaveTextContent(label);
    expect(dd).toHaveTextContent(note);
    expect(dd).toHaveAttribute('data-mode', mode);
  });

  it('says the mode is unknown when an older backend does not send it', async () => {
    const { mode: _, ...old } = APP_INFO;
    backend(old);
    render(Settings);
    expect(await screen.findByTestId('settings-mode')).toHaveTextContent('Unknown');
  });

  it('lists the accounts section first', async () => {
    backend(APP_INFO);
    render(Settings);
    expect(await screen.findByTestId('accounts-empty')).toHaveTextContent('No accounts yet');
    expect(core.invoke).toHaveBeenCalledWith('accounts_list', undefined);
  });

  it('shows the error panel when app_info fails', async () => {
    backend('app_info not allowed on window main', true);
    render(Settings);
    expect(await screen.findByTestId('error-panel')).toHaveTextContent('app_info not allowed on window main');
  });
});
