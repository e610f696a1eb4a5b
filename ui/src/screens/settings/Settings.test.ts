import { render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { APP_INFO } from '../../test/fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);

import Settings from './Settings.svelte';

beforeEach(() => {
  core.invoke.mockReset();
});

describe('Settings screen', () => {
  it('shows version, data dir, cache path, schema version and size from app_info', async () => {
    core.invoke.mockResolvedValue(APP_INFO);
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
    core.invoke.mockResolvedValue({ ...APP_INFO, mode });
    render(Settings);
    const dd = await screen.findByTestId('settings-mode');
    expect(dd).toHaveTextContent(label);
    expect(dd).toHaveTextContent(note);
    expect(dd).toHaveAttribute('data-mode', mode);
  });

  it('says the mode is unknown when an older backend does not send it', async () => {
    const { mode: _, ...old } = APP_INFO;
    core.invoke.mockResolvedValue(old);
    render(Settings);
    expect(await screen.findByTestId('settings-mode')).toHaveTextContent('Unknown');
  });

  it('shows the error panel when app_info fails', async () => {
    core.invoke.mockRejectedValue('app_info not allowed on window main');
    render(Settings);
    expect(await screen.findByTestId('error-panel')).toHaveTextContent('app_info not allowed on window main');
  });
});
