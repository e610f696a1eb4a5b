import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../test/events'));

import { DISCOVERY_WATCHDOG_MS, DiscoveryTracker } from './discoveryTracker.svelte';
import { emit, listenerCount, resetEvents } from '../test/events';

beforeEach(() => {
  core.invoke.mockReset();
  core.invoke.mockResolvedValue(null);
  resetEvents();
});

afterEach(() => vi.useRealTimers());

const planned = { event: 'planned', provider: 'aws', account: 'prod', scopes: 2 } as const;
const failed = {
  event: 'scope_failed',
  provider: 'aws',
  account: 'prod',
  scope: 'aws/eu-west-1',
  kind: 'timeout',
  message: 'no answer',
} as const;

describe('DiscoveryTracker', () => {
  it('follows the events of a run and tells its listeners when it ends', async () => {
    const t = new DiscoveryTracker();
    const stop = t.connect();
    const done = vi.fn();
    t.onFinished(done);
    emit('discovery-progress', planned);
    emit('discovery-progress', failed);
    expect(t.running).toBe(true);
    expect(t.sources).toHaveLength(1);
    expect(t.errors).toEqual([
      { provider: 'aws', account: 'prod', scope: 'aws/eu-west-1', kind: 'timeout', message: 'no answer', hint: '' },
    ]);
    emit('discovery-finished', { clusters: 0, errors: 1, failure: null });
    expect(t.running).toBe(false);
    expect(t.finishedRuns).toBe(1);
    expect(done).toHaveBeenCalledWith({ clusters: 0, errors: 1, failure: null });
    stop();
    await vi.waitFor(() => expect(listenerCount('discovery-progress')).toBe(0));
  });

  it('keeps the breakers the last run left open, and tolerates a backend that sends none', () => {
    const t = new DiscoveryTracker();
    const open = { endpoint: 'https://eks.us-east-1.amazonaws.com', state: 'open' };
    t.finished({ clusters: 3, errors: 1, failure: null, breakers: [open] });
    expect(t.breakers).toEqual([open]);
    t.finished({ clusters: 3, errors: 0, failure: null } as never);
    expect(t.breakers).toEqual([]);
  });

  it("starts each run afresh: the previous run's live errors and failure go", () => {
    const t = new DiscoveryTracker();
    t.progress(failed);
    t.finished({ clusters: 0, errors: 1, failure: 'it broke', breakers: [] });
    expect(t.errors).toHaveLength(1);
    expect(t.failure).toBe('it broke');
    t.progress(planned);
    expect(t.errors).toEqual([]);
    expect(t.failure).toBeNull();
    expect(t.sources).toEqual([expect.objectContaining({ planned: 2, done: 0 })]);
  });

  it('asks refresh_fleet once, not again while the run is going', async () => {
    const t = new DiscoveryTracker();
    await t.refresh();
    await t.refresh();
    expect(core.invoke).toHaveBeenCalledTimes(1);
    expect(core.invoke).toHaveBeenCalledWith('refresh_fleet', undefined);
    expect(t.running).toBe(true);
  });

  it('keeps a refusal and is not running after it', async () => {
    core.invoke.mockRejectedValue({ kind: 'offline', message: 'offline', hint: 'restart' });
    const t = new DiscoveryTracker();
    await t.refresh();
    expect(t.running).toBe(false);
    expect(t.refreshError).toEqual({ kind: 'offline', message: 'offline', hint: 'restart' });
  });

  it('stops saying "running" when the events stop, in case discovery-finished was missed', () => {
    vi.useFakeTimers();
    const t = new DiscoveryTracker();
    t.progress(planned);
    vi.advanceTimersByTime(DISCOVERY_WATCHDOG_MS - 1000);
    t.progress(failed); // a sign of life re-arms it
    vi.advanceTimersByTime(DISCOVERY_WATCHDOG_MS - 1000);
    expect(t.running).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(t.running).toBe(false);
  });
});
