import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { emit, resetEvents } from '../../test/events';
import ActionDialog from './ActionDialog.svelte';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

const TARGET = { cluster: 'aws/prod/eu-west-1/pay', clusterName: 'pay', namespace: 'shop', name: 'web', replicas: 2 };
const TOKEN = 'a'.repeat(32);

function plan(to: number) {
  return {
    token: TOKEN,
    expires_at_ms: 0,
    plan: {
      target: { cluster_id: TARGET.cluster, namespace: 'shop', deployment: 'web' },
      from: 2,
      to,
      ready: 2,
      changes: [{ field: 'spec.replicas', before: '2', after: String(to) }],
      fit: to > 2 ? { wanted: to - 2, room: 10, fits: true, nodes: [], summary: 'room for 10 more' } : null,
      hpa: { min: 2, max: 6 },
      warnings: to === 0 ? ['the service will have no endpoints'] : [],
      typed_confirmation: to === 0 ? 'web' : null,
    },
  };
}

beforeEach(() => {
  resetEvents();
  core.invoke.mockReset();
  core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd === 'scale_preview') return plan(Number(args.replicas));
    if (cmd === 'scale_apply') {
      emit('action-progress', { token: TOKEN, counts: { replicas: 3, updated: 3, ready: 2, available: 2 } });
      return {
        token: TOKEN,
        target: plan(3).plan.target,
        action: 'scale_deployment',
        counts: { replicas: 3, updated: 3, ready: 3, available: 3 },
        settled: true,
        audit_ids: [7, 8],
      };
    }
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
});

async function previewTo(user: ReturnType<typeof userEvent.setup>, n: string) {
  const input = screen.getByTestId('action-replicas');
  await user.clear(input);
  await user.type(input, n);
  await user.click(screen.getByTestId('action-preview'));
  await screen.findByTestId('action-diff');
}

describe('the scale dialog', () => {
  it('previews, confirms, and shows the result', async () => {
    const user = userEvent.setup();
    const onclose = vi.fn();
    render(ActionDialog, { props: { target: TARGET, kind: 'scale', readOnly: false, onclose } });
    await previewTo(user, '3');
    expect(screen.getByTestId('action-fit')).toHaveTextContent('room for 10 more');
    expect(screen.getByTestId('action-hpa')).toHaveTextContent('between 2 and 6');
    await user.click(screen.getByTestId('action-confirm'));
    expect(core.invoke).toHaveBeenCalledWith('scale_apply', { token: TOKEN, typedConfirmation: null });
    expect(await screen.findByTestId('action-result')).toHaveTextContent('Done: 3 of 3 ready');
    await user.click(screen.getByTestId('action-close'));
    expect(onclose).toHaveBeenCalledWith(true);
  });

  it('asks for the name before a scale to zero', async () => {
    const user = userEvent.setup();
    render(ActionDialog, { props: { target: TARGET, kind: 'scale', readOnly: false, onclose: () => {} } });
    await previewTo(user, '0');
    expect(screen.getByTestId('action-warning')).toHaveTextContent('no endpoints');
    const confirm = screen.getByTestId('action-confirm');
    expect(confirm).toBeDisabled();
    await user.type(screen.getByTestId('action-typed'), 'we');
    expect(confirm).toBeDisabled();
    await user.type(screen.getByTestId('action-typed'), 'b');
    expect(confirm).toBeEnabled();
    await user.click(confirm);
    expect(core.invoke).toHaveBeenCalledWith('scale_apply', { token: TOKEN, typedConfirmation: 'web' });
  });

  it('keeps Confirm disabled with a tooltip in read-only mode, and refuses a bad count', async () => {
    const user = userEvent.setup();
    render(ActionDialog, { props: { target: TARGET, kind: 'scale', readOnly: true, onclose: () => {} } });
    const input = screen.getByTestId('action-replicas');
    await user.clear(input);
    await user.type(input, '10001');
    expect(screen.getByTestId('action-preview')).toBeDisabled();
    await previewTo(user, '3');
    expect(screen.getByTestId('action-confirm')).toBeDisabled();
    expect(screen.getByTestId('action-confirm')).toHaveAttribute('title', expect.stringContaining('Read-only'));
  });
});
