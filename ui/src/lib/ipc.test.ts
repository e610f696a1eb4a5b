import { beforeEach, describe, expect, it, vi } from 'vitest';

const core = vi.hoisted(() => ({
  invoke: vi.fn(),
  isTauri: vi.fn(() => true),
  // Tauri's Channel, reduced to what logsFollow uses.
  Channel: class {
    onmessage: (m: unknown) => void = () => {};
  },
}));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../test/events'));

import {
  anomaliesList,
  anomalyGet,
  clusterEvents,
  costExport,
  costView,
  logsCached,
  logsFollow,
  logsPatterns,
  logsStop,
  logsExport,
  appInfo,
  diagnosticsText,
  failoverGroups,
  failoverPlan,
  failoverResume,
  failoverRollback,
  failoverRun,
  failoverRuns,
  failoverTrafficConfirm,
  onFailoverProgress,
  nodepoolApply,
  nodepoolList,
  nodepoolPreview,
  onNodepoolProgress,
  fleetHealth,
  fleetOverview,
  onCollectionFinished,
  onDiscoveryFinished,
  onDiscoveryProgress,
  refreshFleet,
  toCommandError,
} from './ipc';
import { emit, listen, listenerCount, resetEvents } from '../test/events';
import { APP_INFO, anomaly, overview } from '../test/fixtures';

beforeEach(() => {
  core.invoke.mockReset();
  core.isTauri.mockReturnValue(true);
  resetEvents();
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
  it('costView passes the request; costExport the month and cluster; refusals become CommandErrors', async () => {
    core.invoke.mockResolvedValueOnce({ month: '2025-06' });
    await expect(costView({ month: null, cluster: 'aws/a/r/c' })).resolves.toEqual({ month: '2025-06' });
    expect(core.invoke).toHaveBeenCalledWith('cost_view', { request: { month: null, cluster: 'aws/a/r/c' } });
    core.invoke.mockResolvedValueOnce({ path: '/d/cost.csv', bytes: 3 });
    await expect(costExport('2025-06', null)).resolves.toEqual({ path: '/d/cost.csv', bytes: 3 });
    expect(core.invoke).toHaveBeenCalledWith('cost_export', { month: '2025-06', cluster: null });
    core.invoke.mockRejectedValueOnce({ kind: 'invalid_argument', message: 'bad month', hint: 'h' });
    await expect(costExport('x', null)).rejects.toMatchObject({ kind: 'invalid_argument' });
  });

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

  it('anomaliesList and anomalyGet pass the argument names the Rust commands take', async () => {
    const query = { cluster: 'aws:prod:eu-west-1:checkout', state: 'open' as const, since: null, offset: 0, limit: 50 };
    core.invoke.mockResolvedValueOnce({ anomalies: [anomaly()], total: 1 });
    await expect(anomaliesList(query)).resolves.toEqual({ anomalies: [anomaly()], total: 1 });
    expect(core.invoke).toHaveBeenLastCalledWith('anomalies_list', { query });
    core.invoke.mockResolvedValueOnce(anomaly({ id: 7 }));
    await expect(anomalyGet(7)).resolves.toMatchObject({ id: 7 });
    expect(core.invoke).toHaveBeenLastCalledWith('anomaly_get', { id: 7 });
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

describe('refreshFleet', () => {
  it('calls refresh_fleet without arguments', async () => {
    core.invoke.mockResolvedValue(null);
    await expect(refreshFleet()).resolves.toBeNull();
    expect(core.invoke).toHaveBeenCalledWith('refresh_fleet', undefined);
  });

  it("passes the backend's offline refusal through as a CommandError", async () => {
    const offline = { kind: 'offline', message: 'offline: no discovery', hint: 'restart without --offline' };
    core.invoke.mockRejectedValue(offline);
    await expect(refreshFleet()).rejects.toEqual(offline);
  });
});

describe('discovery events', () => {
  it('delivers the payload of discovery-progress and discovery-finished', async () => {
    const progress = vi.fn();
    const finished = vi.fn();
    onDiscoveryProgress(progress);
    onDiscoveryFinished(finished);
    expect(listen).toHaveBeenCalledWith('discovery-progress', expect.any(Function));
    expect(listen).toHaveBeenCalledWith('discovery-finished', expect.any(Function));
    const p = { event: 'planned', provider: 'aws', account: 'prod', scopes: 3 };
    emit('discovery-progress', p);
    emit('discovery-finished', { clusters: 3, errors: 0, failure: null });
    expect(progress).toHaveBeenCalledWith(p);
    expect(finished).toHaveBeenCalledWith({ clusters: 3, errors: 0, failure: null });
  });

  it('delivers collection-finished to onCollectionFinished, and fleetHealth calls fleet_health', async () => {
    const cb = vi.fn();
    const stop = onCollectionFinished(cb);
    expect(listen).toHaveBeenCalledWith('collection-finished', expect.any(Function));
    await Promise.resolve();
    const pass = { collected_at: 1, clusters: 2, clusters_with_problems: 0, samples: 9, failure: null };
    emit('collection-finished', pass);
    expect(cb).toHaveBeenCalledWith(pass);
    stop();
    emit('collection-finished', pass);
    expect(cb).toHaveBeenCalledTimes(1);

    const view = { fleet: null, unknown: 0, at: 1, fleet_history: [], clusters: [] };
    core.invoke.mockResolvedValue(view);
    await expect(fleetHealth()).resolves.toEqual(view);
    expect(core.invoke).toHaveBeenCalledWith('fleet_health', undefined);
  });

  it('stops delivering after unlisten, also when unlisten comes before the registration lands', async () => {
    const cb = vi.fn();
    const early = onDiscoveryProgress(cb);
    early(); // listen() has not resolved yet
    await vi.waitFor(() => expect(listenerCount('discovery-progress')).toBe(0));
    emit('discovery-progress', { event: 'planned', provider: 'aws', account: 'a', scopes: 1 });
    expect(cb).not.toHaveBeenCalled();

    const late = onDiscoveryProgress(cb);
    await vi.waitFor(() => expect(listenerCount('discovery-progress')).toBe(1));
    late();
    await vi.waitFor(() => expect(listenerCount('discovery-progress')).toBe(0));
  });

  it('is a no-op in a plain browser', () => {
    core.isTauri.mockReturnValue(false);
    const unlisten = onDiscoveryFinished(vi.fn());
    expect(listen).not.toHaveBeenCalled();
    expect(() => unlisten()).not.toThrow();
  });

  it('logs, never throws, when the registration is refused', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    listen.mockRejectedValueOnce('event.listen not allowed');
    const unlisten = onDiscoveryProgress(vi.fn());
    await vi.waitFor(() => expect(warn).toHaveBeenCalledWith('Cannot listen to discovery-progress:', 'event.listen not allowed'));
    expect(() => unlisten()).not.toThrow();
    warn.mockRestore();
  });
});

describe('diagnosticsText', () => {
  it('carries kind, message and hint', () => {
    const text = diagnosticsText({ kind: 'cache', message: 'locked', hint: 'close it' });
    expect(text).toBe('kind: cache\nmessage: locked\nhint: close it');
  });
});

describe('logs commands', () => {
  const target = { clusters: ['aws/a/r/c'], namespace: 'shop', deployment: 'checkout', pod: null, container: null };

  it('pass the argument names the Rust commands take', async () => {
    core.invoke.mockResolvedValue(null);
    await logsStop(3);
    expect(core.invoke).toHaveBeenLastCalledWith('logs_stop', { streamId: 3 });
    await logsExport('checkout', 'jsonl', '{}\n');
    expect(core.invoke).toHaveBeenLastCalledWith('logs_export', { name: 'checkout', format: 'jsonl', text: '{}\n' });
    await logsCached(target, 500);
    expect(core.invoke).toHaveBeenLastCalledWith('logs_cached', { target, limit: 500 });
    await logsPatterns('aws/a/r/c', 600);
    expect(core.invoke).toHaveBeenLastCalledWith('logs_patterns', { cluster: 'aws/a/r/c', sinceSeconds: 600 });
    await clusterEvents('aws/a/r/c');
    expect(core.invoke).toHaveBeenLastCalledWith('cluster_events', { clusterId: 'aws/a/r/c' });
  });

  it('logsFollow hands a channel as onBatch and delivers its batches', async () => {
    core.invoke.mockResolvedValue({ stream_id: 1, streams: 3, clusters: target.clusters, skipped: [] });
    const got = vi.fn();
    const options = { since_seconds: null, tail: 200, previous: false, filter: null, follow: true };
    await expect(logsFollow(target, options, got)).resolves.toMatchObject({ stream_id: 1 });
    const [cmd, args] = core.invoke.mock.calls.at(-1) as [string, { target: unknown; options: unknown; onBatch: { onmessage: (m: unknown) => void } }];
    expect(cmd).toBe('logs_follow');
    expect(args.target).toEqual(target);
    expect(args.options).toEqual(options);
    args.onBatch.onmessage({ stream_id: 1, rows: [], dropped: 0, patterns: null, done: true });
    expect(got).toHaveBeenCalledWith({ stream_id: 1, rows: [], dropped: 0, patterns: null, done: true });
  });
});

describe('failover commands', () => {
  it('pass the argument names the Rust commands take', async () => {
    core.invoke.mockResolvedValue([]);
    await failoverGroups();
    expect(core.invoke).toHaveBeenLastCalledWith('failover_groups', undefined);
    await failoverPlan('shop/checkout', 'aws/a', null, 0);
    expect(core.invoke).toHaveBeenLastCalledWith('failover_plan', { group: 'shop/checkout', from: 'aws/a', to: null, floor: 0 });
    core.invoke.mockResolvedValue(4);
    await expect(failoverRun('t', 'checkout')).resolves.toBe(4);
    expect(core.invoke).toHaveBeenLastCalledWith('failover_run', { token: 't', typedConfirmation: 'checkout', traffic: 'skip' });
    await failoverRun('t', null, 'manual');
    expect(core.invoke).toHaveBeenLastCalledWith('failover_run', { token: 't', typedConfirmation: null, traffic: 'manual' });
    core.invoke.mockResolvedValue(false);
    await expect(failoverTrafficConfirm(4, false)).resolves.toBe(false);
    expect(core.invoke).toHaveBeenLastCalledWith('failover_traffic_confirm', { runId: 4, confirmed: false });
    core.invoke.mockResolvedValue(4);
    await failoverRuns(20);
    expect(core.invoke).toHaveBeenLastCalledWith('failover_runs', { limit: 20 });
    await failoverResume(4);
    expect(core.invoke).toHaveBeenLastCalledWith('failover_resume', { runId: 4 });
    await failoverRollback(4);
    expect(core.invoke).toHaveBeenLastCalledWith('failover_rollback', { runId: 4 });
  });

  it('delivers failover-progress events until unlistened', async () => {
    const seen: number[] = [];
    const stop = onFailoverProgress((p) => seen.push(p.run_id));
    await vi.waitFor(() => expect(listenerCount('failover-progress')).toBe(1));
    emit('failover-progress', { run_id: 5, mode: 'run', event: null, report: null, error: null });
    stop();
    await vi.waitFor(() => expect(listenerCount('failover-progress')).toBe(0));
    emit('failover-progress', { run_id: 6, mode: 'run', event: null, report: null, error: null });
    expect(seen).toEqual([5]);
  });
});

describe('node-pool commands', () => {
  it('pass the argument names the Rust commands take', async () => {
    core.invoke.mockResolvedValue({});
    await nodepoolList('aws/a');
    expect(core.invoke).toHaveBeenLastCalledWith('nodepool_list', { cluster: 'aws/a' });
    await nodepoolPreview('aws/a', 'general', 4);
    expect(core.invoke).toHaveBeenLastCalledWith('nodepool_preview', { cluster: 'aws/a', pool: 'general', count: 4 });
    await nodepoolApply('t', null);
    expect(core.invoke).toHaveBeenLastCalledWith('nodepool_apply', { token: 't', typedConfirmation: null });
  });

  it('rejects with the backend’s CommandError', async () => {
    core.invoke.mockRejectedValue({ kind: 'read_only', message: 'read-only mode', hint: 'Settings' });
    await expect(nodepoolApply('t', 'general')).rejects.toEqual({ kind: 'read_only', message: 'read-only mode', hint: 'Settings' });
  });

  it('delivers nodepool-progress events until unlistened', async () => {
    const seen: number[] = [];
    const stop = onNodepoolProgress((p) => seen.push(p.count));
    await vi.waitFor(() => expect(listenerCount('nodepool-progress')).toBe(1));
    emit('nodepool-progress', { token: 't', count: 4, status: 'ACTIVE' });
    stop();
    await vi.waitFor(() => expect(listenerCount('nodepool-progress')).toBe(0));
    emit('nodepool-progress', { token: 't', count: 5, status: 'ACTIVE' });
    expect(seen).toEqual([4]);
  });
});
