import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { emit, resetEvents } from '../../test/events';
import FailoverWizard from './FailoverWizard.svelte';
import FailoverRuns from './FailoverRuns.svelte';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

const EKS = 'aws/prod/us-east-1/shop-eks';
const GKE = 'gcp/prod/europe-west1/shop-gke';
const TOKEN = 'b'.repeat(32);
const member = (id: string) => ({ workload: { cluster_id: id, namespace: 'shop', deployment: 'checkout' }, origin: 'auto' });

function planView(refusal: string | null = null) {
  return {
    token: refusal ? null : TOKEN,
    expires_at_ms: 0,
    unreachable: [],
    traffic_note: 'The app skips the traffic step: switch DNS yourself.',
    plan: {
      group: 'shop/checkout',
      source: member(EKS).workload,
      target: member(GKE).workload,
      source_provider: 'aws',
      target_provider: 'gcp',
      crosses_cloud: true,
      source_replicas: 4,
      source_ready: 4,
      target_replicas: 2,
      target_ready: 2,
      replicas_to_move: 4,
      target_after: 6,
      source_floor: 0,
      baseline_ready: 6,
      fit: { fits: refusal === null, summary: 'room for 8 more pods' },
      source_health: 90,
      target_health: 95,
      cost: { hourly: null, note: 'no cost data yet' },
      target_hpa: { before: { min: 2, max: 6 }, after: { min: 6, max: 6 } },
      source_hpa: null,
      candidates: [
        { cluster_id: GKE, provider: 'gcp', region: 'europe-west1', health: 95, fits: true, room: 8, diversity: 'other cloud', pod_hourly_price: null, refused: null },
      ],
      why: ['healthiest candidate (95)', 'another cloud than the source'],
      refusal,
      warnings: [],
      typed_confirmation: 'checkout',
    },
  };
}

const progress = (event: unknown, report: unknown = null) => ({ run_id: 7, mode: 'run', event, report, error: null });

beforeEach(() => {
  resetEvents();
  core.invoke.mockReset();
  core.invoke.mockImplementation(async (cmd: string) => {
    if (cmd === 'failover_groups') return [{ key: 'shop/checkout', members: [member(EKS), member(GKE)] }];
    if (cmd === 'failover_plan') return planView();
    if (cmd === 'failover_run') return 7;
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
});

describe('the failover wizard', () => {
  it('plans, asks for the typed name across clouds, then shows every step live', async () => {
    const user = userEvent.setup();
    const onclose = vi.fn();
    const { container } = render(FailoverWizard, { group: 'shop/checkout', from: EKS, readOnly: false, onclose });
    await user.click(await screen.findByTestId('failover-plan-button'));
    expect(core.invoke).toHaveBeenLastCalledWith('failover_plan', { group: 'shop/checkout', from: EKS, to: null, floor: 0 });
    const plan = await screen.findByTestId('failover-plan');
    expect(within(plan).getByTestId('failover-target').textContent).toBe('shop-gke');
    expect(screen.getByTestId('failover-cost').textContent).toBe('no cost data yet');
    expect(screen.getByTestId('failover-traffic').textContent).toContain('skips the traffic step');
    expect(screen.getByTestId('failover-why').textContent).toContain('healthiest candidate');
    expect(within(screen.getByTestId('failover-candidates')).getAllByRole('row')).toHaveLength(2);

    const runButton = screen.getByTestId('failover-run') as HTMLButtonElement;
    expect(runButton.disabled).toBe(true);
    await user.type(screen.getByTestId('failover-typed'), 'checkou');
    expect(runButton.disabled).toBe(true);
    await user.type(screen.getByTestId('failover-typed'), 't');
    expect(runButton.disabled).toBe(false);
    expect((await axe.run(container, { rules: { 'color-contrast': { enabled: false } } })).violations).toEqual([]);

    await user.click(runButton);
    expect(core.invoke).toHaveBeenLastCalledWith('failover_run', { token: TOKEN, typedConfirmation: 'checkout', traffic: 'skip' });
    await screen.findByTestId('failover-steps');
    emit('failover-progress', progress({ event: 'step_started', step: 'preflight' }));
    emit('failover-progress', progress({ event: 'step_finished', step: 'preflight', status: 'done' }));
    emit('failover-progress', progress({ event: 'step_started', step: 'wait_ready' }));
    emit('failover-progress', progress({ event: 'target_ready', ready: 4, wanted: 6 }));
    // Another run's events are not this one's.
    emit('failover-progress', { ...progress({ event: 'step_started', step: 'verify' }), run_id: 8 });
    const step = (name: string) => screen.getAllByTestId('failover-step').find((s) => s.dataset.step === name)!;
    await vi.waitFor(() => expect(step('wait_ready').textContent).toContain('4 of 6 ready'));
    expect(step('preflight').dataset.status).toBe('done');
    expect(step('wait_ready').dataset.status).toBe('running');
    expect(step('verify').dataset.status).toBe('pending');
    // Running: the wizard cannot be closed under the run.
    expect((screen.getByTestId('failover-close') as HTMLButtonElement).disabled).toBe(true);

    const watch = { samples: 120, rate_hz: 10, read_errors: 0, min_total_ready: 6, baseline_ready: 6, violation: null };
    emit('failover-progress', progress(null, { run_id: 7, state: 'completed', watch }));
    const result = await screen.findByTestId('failover-result');
    expect(result.dataset.state).toBe('completed');
    expect(result.textContent).toContain('120 invariant samples');
    await user.click(screen.getByTestId('failover-close'));
    expect(onclose).toHaveBeenCalledWith(true);
    // axe over the whole plan takes seconds on a loaded machine.
  }, 20_000);

  it('shows a refusal and offers no run', async () => {
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'failover_groups') return [{ key: 'shop/checkout', members: [member(EKS), member(GKE)] }];
      if (cmd === 'failover_plan') return planView('the target has room for 1 of 4 pods');
      throw { kind: 'not_found', message: cmd, hint: '' };
    });
    const user = userEvent.setup();
    render(FailoverWizard, { readOnly: false, onclose: vi.fn() });
    await user.click(await screen.findByTestId('failover-plan-button'));
    expect((await screen.findByTestId('failover-refusal')).textContent).toContain('room for 1 of 4');
    expect(screen.queryByTestId('failover-run')).toBeNull();
    expect(screen.queryByTestId('failover-typed')).toBeNull();
  });

  it('keeps Run disabled in read-only mode and closes on Escape', async () => {
    const user = userEvent.setup();
    const onclose = vi.fn();
    render(FailoverWizard, { group: 'shop/checkout', from: EKS, readOnly: true, onclose });
    await user.click(await screen.findByTestId('failover-plan-button'));
    await user.type(await screen.findByTestId('failover-typed'), 'checkout');
    expect((screen.getByTestId('failover-run') as HTMLButtonElement).disabled).toBe(true);
    await user.keyboard('{Escape}');
    expect(onclose).toHaveBeenCalledWith(false);
  });
});

describe('the manual traffic step', () => {
  async function startManual(user: ReturnType<typeof userEvent.setup>) {
    render(FailoverWizard, { group: 'shop/checkout', from: EKS, readOnly: false, onclose: vi.fn() });
    await user.click(await screen.findByTestId('failover-plan-button'));
    expect(await screen.findByTestId('failover-traffic-choice')).toHaveTextContent('CLI-only');
    expect(screen.getByTestId('failover-traffic-skip')).toBeChecked();
    await user.click(screen.getByTestId('failover-traffic-manual'));
    await user.type(screen.getByTestId('failover-typed'), 'checkout');
    await user.click(screen.getByTestId('failover-run'));
    expect(core.invoke).toHaveBeenLastCalledWith('failover_run', { token: TOKEN, typedConfirmation: 'checkout', traffic: 'manual' });
    await screen.findByTestId('failover-steps');
    emit('failover-progress', progress({ event: 'step_started', step: 'traffic' }));
    emit('failover-progress', progress({ event: 'traffic_confirmation', prompt: `Switch traffic for shop/checkout from ${EKS} to ${GKE}, then confirm` }));
    return screen.findByTestId('failover-traffic-question');
  }

  beforeEach(() => {
    core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      if (cmd === 'failover_groups') return [{ key: 'shop/checkout', members: [member(EKS), member(GKE)] }];
      if (cmd === 'failover_plan') return planView();
      if (cmd === 'failover_run') return 7;
      if (cmd === 'failover_traffic_confirm') return args.confirmed;
      throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
    });
  });

  it('shows the question and confirms it; the question goes when the step finishes', async () => {
    const user = userEvent.setup();
    const question = await startManual(user);
    expect(question).toHaveTextContent(`Switch traffic for shop/checkout from ${EKS} to ${GKE}, then confirm`);
    await user.click(within(question).getByTestId('failover-traffic-confirm'));
    expect(core.invoke).toHaveBeenLastCalledWith('failover_traffic_confirm', { runId: 7, confirmed: true });
    expect(question).toHaveTextContent('Confirmed');
    emit('failover-progress', progress({ event: 'step_finished', step: 'traffic', status: 'done' }));
    await vi.waitFor(() => expect(screen.queryByTestId('failover-traffic-question')).toBeNull());
  });

  it('aborts: the run ends failed at the traffic step with the backend’s hint', async () => {
    const user = userEvent.setup();
    const question = await startManual(user);
    await user.click(within(question).getByTestId('failover-traffic-abort'));
    expect(core.invoke).toHaveBeenLastCalledWith('failover_traffic_confirm', { runId: 7, confirmed: false });
    emit('failover-progress', progress({ event: 'step_finished', step: 'traffic', status: 'failed' }));
    emit('failover-progress', {
      run_id: 7,
      mode: 'run',
      event: null,
      report: null,
      error: { kind: 'traffic_step_failed', message: 'the traffic step failed: the traffic switch was not confirmed', hint: 'resume or rollback' },
    });
    const panel = await screen.findByTestId('error-panel');
    expect(panel).toHaveTextContent('not confirmed');
    expect(screen.queryByTestId('failover-traffic-question')).toBeNull();
    const step = screen.getAllByTestId('failover-step').find((s) => s.dataset.step === 'traffic')!;
    expect(step.dataset.status).toBe('failed');
  });
});

describe('the failover runs list', () => {
  const run = (state: string) => ({
    id: 3,
    group: 'shop/checkout',
    source_cluster: EKS,
    target_cluster: GKE,
    state,
    step: 'wait_ready',
    created_ms: 1_700_000_000_000,
    updated_ms: 1_700_000_000_000,
    error: state === 'failed' ? 'timed out waiting for ready replicas' : null,
    steps: [
      { step: 'preflight', status: 'done', started_ms: 0, ended_ms: 1, detail: {} },
      { step: 'raise_target', status: 'done', started_ms: 1, ended_ms: 2, detail: {} },
      { step: 'wait_ready', status: 'failed', started_ms: 2, ended_ms: 3, detail: {} },
    ],
  });

  it('lists runs with their steps and resumes one after a confirmation', async () => {
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'failover_runs') return [run('failed')];
      if (cmd === 'failover_resume') return 3;
      throw { kind: 'not_found', message: cmd, hint: '' };
    });
    const user = userEvent.setup();
    const { container } = render(FailoverRuns, { readOnly: false });
    const row = await screen.findByTestId('failover-run-row');
    expect(row.dataset.state).toBe('failed');
    expect(within(row).getAllByTestId('failover-run-step').map((s) => s.dataset.status)).toEqual(['done', 'done', 'failed']);
    expect((await axe.run(container, { rules: { 'color-contrast': { enabled: false } } })).violations).toEqual([]);
    await user.click(within(row).getByTestId('failover-resume'));
    expect(core.invoke).not.toHaveBeenCalledWith('failover_resume', expect.anything());
    await user.click(screen.getByTestId('failover-confirm'));
    expect(core.invoke).toHaveBeenCalledWith('failover_resume', { runId: 3 });
  });

  it('offers only roll back for a completed run, and nothing in read-only mode', async () => {
    core.invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'failover_runs') return [run('completed')];
      if (cmd === 'failover_rollback') return 3;
      throw { kind: 'not_found', message: cmd, hint: '' };
    });
    const user = userEvent.setup();
    const { unmount } = render(FailoverRuns, { readOnly: false });
    const row = await screen.findByTestId('failover-run-row');
    expect(within(row).queryByTestId('failover-resume')).toBeNull();
    await user.click(within(row).getByTestId('failover-rollback'));
    await user.click(screen.getByTestId('failover-confirm'));
    expect(core.invoke).toHaveBeenCalledWith('failover_rollback', { runId: 3 });
    unmount();
    render(FailoverRuns, { readOnly: true });
    expect(((await screen.findByTestId('failover-rollback')) as HTMLButtonElement).disabled).toBe(true);
  });

  it('asks a resumed run’s traffic question on the run’s row', async () => {
    core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      if (cmd === 'failover_runs') return [run('running')];
      if (cmd === 'failover_traffic_confirm') return args.confirmed;
      throw { kind: 'not_found', message: cmd, hint: '' };
    });
    const user = userEvent.setup();
    render(FailoverRuns, { readOnly: false });
    const row = await screen.findByTestId('failover-run-row');
    expect(within(row).queryByTestId('failover-traffic-question')).toBeNull();
    emit('failover-progress', { run_id: 3, mode: 'run', event: { event: 'traffic_confirmation', prompt: 'Switch traffic for shop/checkout from a to b, then confirm' }, report: null, error: null });
    const question = await within(row).findByTestId('failover-traffic-question');
    expect(question).toHaveTextContent('from a to b');
    await user.click(within(question).getByTestId('failover-traffic-abort'));
    expect(core.invoke).toHaveBeenCalledWith('failover_traffic_confirm', { runId: 3, confirmed: false });
    emit('failover-progress', { run_id: 3, mode: 'run', event: null, report: null, error: { kind: 'traffic_step_failed', message: 'no', hint: '' } });
    await vi.waitFor(() => expect(screen.queryByTestId('failover-traffic-question')).toBeNull());
  });
});
