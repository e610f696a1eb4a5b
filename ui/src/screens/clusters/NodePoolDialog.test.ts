import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { emit, resetEvents } from '../../test/events';
import NodePoolDialog from './NodePoolDialog.svelte';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

const CLUSTER = { id: 'aws/prod/eu-west-1/pay', name: 'pay', provider: 'aws' };
const POOL = { name: 'general', count: 3, min: 0, max: 6, machine_type: 'm6i.large' };
const TOKEN = 'b'.repeat(32);

function preview(to: number) {
  return {
    token: TOKEN,
    provider: 'aws',
    expires_at_ms: 0,
    cost: to === 0 ? null : { hourly_per_node: 0.096, monthly_delta: (to - 3) * 0.096 * 730, currency: 'USD', source: 'aws list prices (as of 2025-06)' },
    plan: {
      cluster_id: CLUSTER.id,
      pool: 'general',
      machine_type: 'm6i.large',
      from: 3,
      to,
      min: 0,
      max: 6,
      changes: to === 3 ? [] : [{ field: 'node count', before: '3', after: String(to) }],
      warnings: [
        ...(to < 3 ? [`${3 - to} node(s) will be drained and removed`] : []),
        ...(to === 1 ? ['removing 2 node(s) of general leaves its pods short of CPU (3.50 cores needed, 0.70 free)'] : []),
      ],
      drain_fit: to === 2 || to === 1 ? drain(to === 2) : null,
      typed_confirmation: to === 0 || to === 1 ? 'general' : null,
    },
  };
}

function drain(fits: boolean) {
  return {
    removed_nodes: fits ? ['n-2'] : ['n-2', 'n-1'],
    evicted_cpu: fits ? 1.5 : 3.5,
    evicted_memory: 2 ** 31,
    evicted_pods: 6,
    free_cpu: fits ? 4 : 0.7,
    free_memory: 2 ** 33,
    free_pods: 200,
    fits,
    summary: fits ? 'the 6 pod(s) on the 1 busiest node(s) of general fit in the free room of the other nodes' : 'short of CPU',
  };
}

let applyResult: () => unknown;

beforeEach(() => {
  resetEvents();
  core.invoke.mockReset();
  applyResult = () => ({ token: TOKEN, cluster_id: CLUSTER.id, pool: 'general', operation: 'op-1', count: 4, settled: true, audit_ids: [3, 4] });
  core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd === 'nodepool_preview') return preview(Number(args.count));
    if (cmd === 'nodepool_apply') {
      emit('nodepool-progress', { token: TOKEN, count: 4, status: 'UPDATING' });
      emit('nodepool-progress', { token: 'other'.padEnd(32, '0'), count: 99, status: 'x' });
      return applyResult();
    }
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
});

async function previewTo(user: ReturnType<typeof userEvent.setup>, n: string) {
  const input = screen.getByTestId('nodepool-count');
  await user.clear(input);
  await user.type(input, n);
  await user.click(screen.getByTestId('nodepool-preview'));
  await screen.findByTestId('nodepool-diff');
}

describe('the node-pool dialog', () => {
  it('previews before → after with the cost, confirms, follows the progress and shows the result', async () => {
    const user = userEvent.setup();
    const onclose = vi.fn();
    render(NodePoolDialog, { props: { cluster: CLUSTER, pool: POOL, readOnly: false, onclose } });
    expect(screen.getByTestId('nodepool-count')).toHaveFocus();
    await previewTo(user, '4');
    expect(core.invoke).toHaveBeenCalledWith('nodepool_preview', { cluster: CLUSTER.id, pool: 'general', count: 4 });
    expect(screen.getByTestId('nodepool-diff')).toHaveTextContent(/node count\s*3\s*4/);
    expect(screen.getByTestId('nodepool-cost')).toHaveTextContent('+70.08 USD/month');
    await user.click(screen.getByTestId('nodepool-confirm'));
    expect(core.invoke).toHaveBeenCalledWith('nodepool_apply', { token: TOKEN, typedConfirmation: null });
    expect(await screen.findByTestId('nodepool-result')).toHaveTextContent('has 4 nodes');
    // Only this preview's events are shown.
    expect(screen.getByTestId('nodepool-progress')).toHaveTextContent('4 nodes · cluster UPDATING');
    await user.click(screen.getByTestId('nodepool-close'));
    expect(onclose).toHaveBeenCalledWith(true);
  });

  it('asks for the pool name before a scale to zero and says when no price is known', async () => {
    const user = userEvent.setup();
    render(NodePoolDialog, { props: { cluster: CLUSTER, pool: POOL, readOnly: false, onclose: () => {} } });
    await previewTo(user, '0');
    expect(screen.getByTestId('nodepool-warning')).toHaveTextContent('3 node(s) will be drained');
    expect(screen.getByTestId('nodepool-cost')).toHaveTextContent('no price known for m6i.large');
    const confirm = screen.getByTestId('nodepool-confirm');
    expect(confirm).toBeDisabled();
    await user.type(screen.getByTestId('nodepool-typed'), 'genera');
    expect(confirm).toBeDisabled();
    await user.type(screen.getByTestId('nodepool-typed'), 'l');
    expect(confirm).toBeEnabled();
    await user.click(confirm);
    expect(core.invoke).toHaveBeenCalledWith('nodepool_apply', { token: TOKEN, typedConfirmation: 'general' });
  });

  it('says where the pods of removed nodes go, and asks for the name when they do not fit', async () => {
    const user = userEvent.setup();
    render(NodePoolDialog, { props: { cluster: CLUSTER, pool: POOL, readOnly: false, onclose: () => {} } });
    await previewTo(user, '2');
    expect(screen.getByTestId('nodepool-drain')).toHaveTextContent('Where the pods go: the 6 pod(s)');
    expect(screen.queryByTestId('nodepool-typed')).toBeNull();
    expect(screen.getByTestId('nodepool-confirm')).toBeEnabled();
    await previewTo(user, '1');
    expect(screen.queryByTestId('nodepool-drain')).toBeNull();
    const warnings = screen.getAllByTestId('nodepool-warning').map((w) => w.textContent);
    expect(warnings.some((w) => w?.includes('short of CPU (3.50 cores needed, 0.70 free)'))).toBe(true);
    expect(screen.getByText(/will have nowhere to run/)).toBeInTheDocument();
    expect(screen.getByTestId('nodepool-confirm')).toBeDisabled();
    await user.type(screen.getByTestId('nodepool-typed'), 'general');
    expect(screen.getByTestId('nodepool-confirm')).toBeEnabled();
  });

  it('refuses a bad count, a no-op, and confirming in read-only mode', async () => {
    const user = userEvent.setup();
    const { unmount } = render(NodePoolDialog, { props: { cluster: CLUSTER, pool: POOL, readOnly: false, onclose: () => {} } });
    await user.clear(screen.getByTestId('nodepool-count'));
    await user.type(screen.getByTestId('nodepool-count'), '1001');
    expect(screen.getByTestId('nodepool-preview')).toBeDisabled();
    await previewTo(user, '3');
    expect(screen.getByTestId('nodepool-noop')).toBeInTheDocument();
    expect(screen.getByTestId('nodepool-confirm')).toBeDisabled();
    unmount();
    render(NodePoolDialog, { props: { cluster: CLUSTER, pool: POOL, readOnly: true, onclose: () => {} } });
    await previewTo(user, '5');
    expect(screen.getByTestId('nodepool-confirm')).toBeDisabled();
    expect(screen.getByTestId('nodepool-confirm')).toHaveAttribute('title', expect.stringContaining('Read-only'));
  });

  it('names the cluster and provider with the backend’s fix when the apply fails', async () => {
    const user = userEvent.setup();
    applyResult = () => {
      throw { kind: 'forbidden', message: 'aws/prod refused update on node pool general', hint: 'Your identity lacks `update`…' };
    };
    render(NodePoolDialog, { props: { cluster: CLUSTER, pool: POOL, readOnly: false, onclose: () => {} } });
    await previewTo(user, '4');
    await user.click(screen.getByTestId('nodepool-confirm'));
    const panel = await screen.findByTestId('error-panel');
    expect(panel).toHaveTextContent('Scaling node pool general of pay (aws) failed');
    expect(panel).toHaveTextContent('Your identity lacks');
  });

  it('closes on Escape unless a resize is being sent, and traps Tab inside', async () => {
    const user = userEvent.setup();
    const onclose = vi.fn();
    render(NodePoolDialog, { props: { cluster: CLUSTER, pool: POOL, readOnly: false, onclose } });
    const input = screen.getByTestId('nodepool-count');
    await user.tab();
    expect(screen.getByTestId('nodepool-preview')).toHaveFocus();
    await user.tab();
    expect(screen.getByTestId('nodepool-close')).toHaveFocus();
    await user.tab();
    expect(input).toHaveFocus();
    await user.tab({ shift: true });
    expect(screen.getByTestId('nodepool-close')).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(onclose).toHaveBeenCalledWith(false);
  });
});
