import { beforeEach, describe, expect, it, vi } from 'vitest';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: vi.fn(() => true) }));
vi.mock('@tauri-apps/api/core', () => core);

import { appInfo, diagnosticsText, fleetOverview, toCommandError } from './ipc';
import { APP_INFO, overview } from '../test/fixtures';

beforeEach(() => {
  core.invoke.mockReset();
  core.isTauri.mockReturnValue(true);
});

describe('toCommandError', () => {
  it('keeps a well-formed CommandError', () => {
    const e = { kind: 'cache', message: 'cache at /x is locked', hint: 'close the other instance' };
    expect(toCommandError(e)).toEqual(e);
  });

  it('wraps a string rejection', () => {
    expect(toCommandError('boom')).toEqual({ kind: 'unknown', message: 'boom', hint: '' });
  });

  it('wraps an Error', () => {
    expect(toCommandError(new TypeError('bad'))).toEqual({ kind: 'unknown', message: 'bad', hint: '' });
  });

  it('fills in a missing kind or hint', () => {
    expect(toCommandError({ message: 'm' })).toEqual({ kind: 'unknown', message: 'm', hint: '' });
    expect(toCommandError({ kind: 'io', message: 'm', hint: 42 })).toEqual({ kind: 'io', message: 'm', hint: '' });
  });

  it('serialises unknown objects and handles null/undefined/numbers', () => {
    expect(toCommandError({ code: 7 })).toEqual({ kind: 'unknown', message: '{"code":7}', hint: '' });
    expect(toCommandError(undefined).message).toBe('Unknown error');
    expect(toCommandError(null).message).toBe('Unknown error');
    expect(toCommandError(3)).toEqual({ kind: 'unknown', message: '3', hint: '' });
  });
});

describe('commands', () => {
  it('fleetOverview calls fleet_overview without arguments', async () => {
    core.invoke.mockResolvedValue(overview());
    await expect(fleetOverview()).resolves.toEqual(overview());
    expect(core.invoke).toHaveBeenCalledWith('fleet_overview', undefined);
  });

  it('appInfo calls app_info without arguments', async () => {
    core.invoke.mockResolvedValue(APP_INFO);
    await expect(appInfo()).resolves.toEqual(APP_INFO);
    expect(core.invoke).toHaveBeenCalledWith('app_info', undefined);
  });

  it('normalises a rejection into a CommandError', async () => {
    core.invoke.mockRejectedValue('command fleet_overview not allowed');
    await expect(fleetOverview()).rejects.toEqual({
      kind: 'unknown',
      message: 'command fleet_overview not allowed',
      hint: '',
    });
  });

  it('explains a missing backend instead of calling invoke', async () => {
    core.isTauri.mockReturnValue(false);
    await expect(fleetOverview()).rejects.toMatchObject({ kind: 'no_backend' });
    expect(core.invoke).not.toHaveBeenCalled();
  });
});

describe('diagnosticsText', () => {
  it('carries kind, message and hint', () => {
    const text = diagnosticsText({ kind: 'cache', message: 'locked', hint: 'close it' });
    expect(text).toBe('kind: cache\nmessage: locked\nhint: close it');
  });
});
