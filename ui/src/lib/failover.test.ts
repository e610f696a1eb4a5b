import { describe, expect, it } from 'vitest';
import { applyProgress, canResume, canRollback, emptyLive, type FailoverRun } from './failover';

const p = (event: unknown) => ({ run_id: 1, mode: 'run' as const, event: event as never, report: null, error: null });

describe('applyProgress', () => {
  it('tracks each step, the ready count, the drain and the end', () => {
    let live = emptyLive();
    live = applyProgress(live, p({ event: 'step_started', step: 'raise_target' }));
    expect(live.status.raise_target).toBe('running');
    live = applyProgress(live, p({ event: 'step_finished', step: 'raise_target', status: 'done' }));
    live = applyProgress(live, p({ event: 'target_ready', ready: 3, wanted: 5 }));
    live = applyProgress(live, p({ event: 'source_scaled', replicas: 0 }));
    expect(live).toMatchObject({ status: { raise_target: 'done' }, ready: { ready: 3, wanted: 5 }, sourceReplicas: 0 });
    const before = live;
    live = applyProgress(live, p({ event: 'aborted', reason: 'ready fell to 3 < 5' }));
    expect(live.aborted).toBe('ready fell to 3 < 5');
    expect(before.aborted).toBeNull();
    const err = { kind: 'timeout', message: 'slow', hint: '' };
    live = applyProgress(live, { run_id: 1, mode: 'run', event: null, report: null, error: err });
    expect(live.error).toEqual(err);
  });
});

describe('run actions', () => {
  const run = (state: string) => ({ state }) as FailoverRun;
  it('resumes only unfinished runs and rolls back anything not rolled back', () => {
    expect(['running', 'failed', 'aborted', 'completed', 'rolled_back'].filter((s) => canResume(run(s)))).toEqual([
      'running',
      'failed',
      'aborted',
    ]);
    expect(canRollback(run('completed'))).toBe(true);
    expect(canRollback(run('rolled_back'))).toBe(false);
  });
});

describe('the manual traffic step', () => {
  it('shows the question until the step finishes or the run ends', () => {
    let live = applyProgress(emptyLive(), p({ event: 'step_started', step: 'traffic' }));
    live = applyProgress(live, p({ event: 'traffic_confirmation', prompt: 'Switch traffic for shop/checkout from a to b, then confirm' }));
    expect(live.trafficPrompt).toContain('from a to b');
    expect(applyProgress(live, p({ event: 'step_finished', step: 'traffic', status: 'done' })).trafficPrompt).toBeNull();
    expect(applyProgress(live, p({ event: 'step_finished', step: 'raise_target', status: 'done' })).trafficPrompt).not.toBeNull();
    const end = { run_id: 1, mode: 'run' as const, event: null, report: null, error: { kind: 'traffic_step_failed', message: 'no', hint: '' } };
    expect(applyProgress(live, end).trafficPrompt).toBeNull();
  });
});
