import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { resetEvents } from '../../test/events';
import { optionalInt } from '../../lib/failover';
import HpaDialog from './HpaDialog.svelte';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

const TARGET = { cluster: 'gcp/p/eu/shop', clusterName: 'shop', namespace: 'shop', name: 'web' };
const TOKEN = 'c'.repeat(32);
const DEFAULTS = {
  min: 2,
  max: 10,
  cpu_percent: 70,
  memory_percent: 80,
  scale_up: { percent: 100, period_secs: 30 },
  scale_down: { percent: 50, period_secs: 60 },
  scale_down_stabilization_secs: 300,
};

function preview(max: number | null) {
  return {
    token: TOKEN,
    expires_at_ms: 0,
    plan: {
      target: { cluster_id: TARGET.cluster, namespace: 'shop', deployment: 'web' },
      name: 'web',
      action: 'create',
      before: null,
      after: { ...DEFAULTS, max: max ?? 10 },
      changes: [{ field: 'maxReplicas', before: '-', after: String(max ?? 10) }],
      replicas: 3,
      warnings: [],
    },
  };
}

beforeEach(() => {
  resetEvents();
  core.invoke.mockReset();
  core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd === 'hpa_preview') return preview(args.max as number | null);
    if (cmd === 'hpa_apply') return { target: preview(null).plan.target, name: 'web', action: 'create', audit_ids: [4, 5] };
    throw { kind: 'not_found', message: cmd, hint: '' };
  });
});

describe('optionalInt', () => {
  it('keeps on empty, parses whole numbers in range, rejects the rest', () => {
    expect(optionalInt(' ', 1, 10)).toBeNull();
    expect(optionalInt('7', 1, 10)).toBe(7);
    expect(optionalInt('0', 1, 10)).toBeUndefined();
    expect(optionalInt('2.5', 1, 10)).toBeUndefined();
    expect(optionalInt('11', 1, 10)).toBeUndefined();
  });
});

describe('the HPA dialog', () => {
  it('previews the defaults, re-previews an edit, and applies on confirmation', async () => {
    const user = userEvent.setup();
    const onclose = vi.fn();
    const { container } = render(HpaDialog, { props: { target: TARGET, readOnly: false, onclose } });
    await screen.findByTestId('hpa-diff');
    expect(core.invoke).toHaveBeenLastCalledWith('hpa_preview', {
      cluster: TARGET.cluster,
      namespace: 'shop',
      deployment: 'web',
      min: null,
      max: null,
      cpuPercent: null,
      memoryPercent: null,
    });
    expect((await axe.run(container, { rules: { 'color-contrast': { enabled: false } } })).violations).toEqual([]);
    await user.type(screen.getByTestId('hpa-max'), '0');
    expect((screen.getByTestId('hpa-preview') as HTMLButtonElement).disabled).toBe(true);
    await user.clear(screen.getByTestId('hpa-max'));
    await user.type(screen.getByTestId('hpa-max'), '12');
    await user.click(screen.getByTestId('hpa-preview'));
    await vi.waitFor(() => expect(screen.getByTestId('hpa-diff').textContent).toContain('12'));
    expect(core.invoke).toHaveBeenLastCalledWith('hpa_preview', expect.objectContaining({ max: 12 }));
    await user.click(screen.getByTestId('hpa-confirm'));
    expect(core.invoke).toHaveBeenLastCalledWith('hpa_apply', { token: TOKEN });
    expect((await screen.findByTestId('hpa-result')).textContent).toContain('created');
    await user.click(screen.getByTestId('hpa-close'));
    expect(onclose).toHaveBeenCalledWith(true);
  });

  it('does not confirm in read-only mode', async () => {
    render(HpaDialog, { props: { target: TARGET, readOnly: true, onclose: vi.fn() } });
    await screen.findByTestId('hpa-diff');
    expect((screen.getByTestId('hpa-confirm') as HTMLButtonElement).disabled).toBe(true);
  });
});
