import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditRow } from '../../lib/bindings/AuditRow';
import Actions from './Actions.svelte';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

function row(id: number, action: string, outcome: string, target: string): AuditRow {
  return { id, at_ms: 1_700_000_000_000 + id, actor: 'sre via aws account prod', action, outcome, target, detail: '{}' };
}

const ROWS = [
  row(4, 'scale_deployment', 'succeeded', 'aws/prod/eu/pay/shop/web'),
  row(3, 'scale_deployment', 'started', 'aws/prod/eu/pay/shop/web'),
  row(2, 'rollout_restart', 'failed', 'gcp/dev/eu/edge/kube-system/coredns'),
  row(1, 'read_only_set', 'succeeded', 'app/settings'),
];

beforeEach(() => {
  core.invoke.mockReset();
  core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd === 'audit_log') return ROWS.slice(0, Number(args.limit));
    if (cmd === 'audit_export') return { path: `/home/sre/Downloads/audit.${String(args.format)}`, bytes: 10 };
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
});

describe('the Actions screen', () => {
  it('lists the audit log newest first and filters by action, outcome and text', async () => {
    const user = userEvent.setup();
    render(Actions);
    const rows = await screen.findAllByTestId('audit-row');
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining('scale_deployment'),
      expect.stringContaining('scale_deployment'),
      expect.stringContaining('rollout_restart'),
      expect.stringContaining('read_only_set'),
    ]);
    await user.selectOptions(screen.getByTestId('audit-action'), 'scale_deployment');
    expect(screen.getAllByTestId('audit-row')).toHaveLength(2);
    await user.selectOptions(screen.getByTestId('audit-outcome'), 'succeeded');
    expect(screen.getAllByTestId('audit-row')).toHaveLength(1);
    expect(screen.getByTestId('audit-count')).toHaveTextContent('1 of 4 rows');
    await user.selectOptions(screen.getByTestId('audit-action'), '');
    await user.selectOptions(screen.getByTestId('audit-outcome'), '');
    await user.type(screen.getByTestId('audit-search'), 'COREDNS');
    const left = screen.getAllByTestId('audit-row');
    expect(left).toHaveLength(1);
    expect(left[0]).toHaveAttribute('data-outcome', 'failed');
  });

  it('exports what the filter shows, as CSV or JSON, and says where', async () => {
    const user = userEvent.setup();
    render(Actions);
    await screen.findAllByTestId('audit-row');
    await user.selectOptions(screen.getByTestId('audit-outcome'), 'failed');
    await user.click(screen.getByTestId('audit-export-csv'));
    expect(core.invoke).toHaveBeenCalledWith('audit_export', {
      filter: { action: null, outcome: 'failed', text: null },
      format: 'csv',
    });
    expect(await screen.findByTestId('audit-exported')).toHaveTextContent('/home/sre/Downloads/audit.csv');
    await user.click(screen.getByTestId('audit-export-json'));
    expect(core.invoke).toHaveBeenCalledWith('audit_export', expect.objectContaining({ format: 'json' }));
  });

  it('explains an empty log', async () => {
    core.invoke.mockImplementation(async () => []);
    render(Actions);
    expect(await screen.findByTestId('audit-empty')).toHaveTextContent('Workloads');
  });
});
