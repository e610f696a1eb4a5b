import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SuggestionView } from '../../lib/bindings/SuggestionView';
import Suggestions from './Suggestions.svelte';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

const AWS = 'aws/prod/us-east-1/eks1';
const TOKEN = 'b'.repeat(32);

const haGap: SuggestionView = {
  kind: 'single_replica_no_pdb',
  cluster_id: AWS,
  target: 'batch/worker',
  summary: 'one replica and no PodDisruptionBudget',
  monthly_savings: -12.5,
  currency: 'USD',
  commands: ['kubectl -n batch scale deployment/worker --replicas=2'],
  caveats: [],
  action: { dialog: 'scale', cluster_id: AWS, namespace: 'batch', deployment: 'worker', replicas: 2 },
};

const rightSize: SuggestionView = {
  kind: 'right_size_requests',
  cluster_id: AWS,
  target: 'shop/web',
  summary: 'CPU 1000m → 130m (p95 100m)',
  monthly_savings: 41.2,
  currency: 'USD',
  commands: ['kubectl -n shop set resources deployment/web --requests=cpu=130m,memory=336Mi'],
  caveats: ['Changing requests rolls out every pod of the deployment.'],
  action: null,
};

beforeEach(() => {
  core.invoke.mockReset();
  core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd === 'scale_preview') {
      return {
        token: TOKEN,
        expires_at_ms: 0,
        plan: {
          target: { cluster_id: AWS, namespace: 'batch', deployment: 'worker' },
          from: 1,
          to: Number(args.replicas),
          ready: 1,
          changes: [{ field: 'spec.replicas', before: '1', after: String(args.replicas) }],
          fit: null,
          hpa: null,
          warnings: [],
          typed_confirmation: null,
        },
      };
    }
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
});

describe('cost suggestions', () => {
  it('shows the exact change, and a dialog button only where one exists', () => {
    render(Suggestions, { props: { suggestions: [haGap, rightSize], notes: ['p95 over 3 days'] } });
    const [gap, size] = screen.getAllByTestId('cost-suggestion');
    expect(gap).toHaveTextContent('costs 12.50 USD a month');
    expect(gap).toHaveTextContent('Scale batch/worker to 2…');
    expect(size).toHaveTextContent('saves 41.20 USD a month');
    expect(size).toHaveTextContent('kubectl -n shop set resources deployment/web --requests=cpu=130m,memory=336Mi');
    expect(size.querySelector('button')).toBeNull();
    expect(screen.getByTestId('cost-suggestion-note')).toHaveTextContent('p95 over 3 days');
  });

  it('opens the scale dialog prefilled at 2 and writes nothing before the confirmation', async () => {
    const user = userEvent.setup();
    render(Suggestions, { props: { suggestions: [haGap], notes: [] } });
    await user.click(screen.getByTestId('cost-suggestion-action'));
    expect(screen.getByTestId('action-replicas')).toHaveValue('2');
    await user.click(screen.getByTestId('action-preview'));
    expect(await screen.findByTestId('action-diff')).toBeInTheDocument();
    expect(core.invoke).toHaveBeenCalledWith('scale_preview', { cluster: AWS, namespace: 'batch', deployment: 'worker', replicas: 2 });
    expect(core.invoke).not.toHaveBeenCalledWith('scale_apply', expect.anything());
    expect(screen.getByTestId('action-confirm')).toBeEnabled();
  });

  it('has no axe violations', async () => {
    render(Suggestions, { props: { suggestions: [haGap, rightSize], notes: [] } });
    const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } });
    expect(result.violations.map((v) => v.id)).toEqual([]);
  });
});
