import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Budget } from '../../lib/bindings/Budget';
import type { BudgetsList } from '../../lib/bindings/BudgetsList';
import Budgets from './Budgets.svelte';
import { scopeText, STATUS, validateDraft, type Draft } from './budgets';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

const AWS = 'aws/prod/us-east-1/eks1';

function entry(b: Budget, spent: number, status: string, error: string | null = null) {
  return {
    budget: b,
    view: {
      id: b.id,
      name: b.name,
      scope: b.scope.kind === 'cluster' ? `cluster ${b.scope.cluster_id}` : 'the fleet',
      amount: b.amount,
      currency: b.currency,
      spent: error ? null : spent,
      spent_pct: error ? null : (100 * spent) / b.amount,
      forecast: error ? null : spent * 2,
      forecast_pct: error ? null : (200 * spent) / b.amount,
      status,
      messages: [],
      error,
    },
  };
}

let saved: Budget[];

function list(): BudgetsList {
  return {
    month: '2025-06',
    budgets: saved.map((b) => (b.currency === 'EUR' ? entry(b, 0, 'ok', 'budget is in EUR but the spend is in USD') : entry(b, 900, b.amount < 1000 ? 'critical' : 'medium'))),
  };
}

beforeEach(() => {
  saved = [{ id: 1, name: 'eks', scope: { kind: 'cluster', cluster_id: AWS }, amount: 1000, currency: 'USD', thresholds_pct: [50, 80, 100] }];
  core.invoke.mockReset();
  core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd === 'budgets_list') return list();
    if (cmd === 'budget_set') {
      const b = args.budget as Budget;
      if (b.id === null) saved.push({ ...b, id: saved.length + 1 });
      else saved = saved.map((o) => (o.id === b.id ? b : o));
      return b.id ?? saved.length;
    }
    if (cmd === 'budget_delete') {
      const before = saved.length;
      saved = saved.filter((b) => b.name !== args.name);
      return saved.length < before;
    }
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
});

const draft = (d: Partial<Draft>): Draft => ({
  id: null,
  name: 'n',
  amount: '100',
  currency: 'usd',
  scopeKind: 'fleet',
  scopeValue: '',
  tagValue: '',
  t1: '50',
  t2: '80',
  t3: '100',
  ...d,
});

describe('budget helpers', () => {
  it('turns a draft into a budget or says what to fix', () => {
    expect(validateDraft(draft({}))).toEqual({ id: null, name: 'n', scope: { kind: 'fleet' }, amount: 100, currency: 'USD', thresholds_pct: [50, 80, 100] });
    expect(validateDraft(draft({ amount: '-3' }))).toMatch(/above 0/);
    expect(validateDraft(draft({ amount: '' }))).toMatch(/above 0/);
    expect(validateDraft(draft({ currency: 'dollars' }))).toMatch(/three-letter/);
    expect(validateDraft(draft({ t1: '90' }))).toMatch(/rising/);
    expect(validateDraft(draft({ name: '  ' }))).toMatch(/name/);
    expect(validateDraft(draft({ scopeKind: 'cluster', scopeValue: ' ' }))).toMatch(/which cluster/);
    expect(validateDraft(draft({ scopeKind: 'cloud', scopeValue: AWS }))).toMatchObject({ scope: { kind: 'cloud', cloud: 'aws' } });
    expect(validateDraft(draft({ scopeKind: 'tag', scopeValue: 'team', tagValue: 'shop' }))).toMatchObject({ scope: { kind: 'tag', key: 'team', value: 'shop' } });
    expect(scopeText({ kind: 'tag', key: 'team', value: 'shop' })).toEqual(['tag', 'team', 'shop']);
    expect(scopeText({ kind: 'cluster', cluster_id: AWS })).toEqual(['cluster', AWS, '']);
  });

  it('has a word and an icon for every status', () => {
    for (const s of ['ok', 'medium', 'high', 'critical']) {
      expect(STATUS[s].word.length).toBeGreaterThan(3);
      expect(STATUS[s].icon.length).toBeGreaterThan(0);
    }
  });
});

describe('the Budgets section', () => {
  it('lists each budget with month to date, forecast and status in words', async () => {
    render(Budgets);
    const row = await screen.findByTestId('budget-row');
    expect(row).toHaveTextContent('eks');
    expect(row).toHaveTextContent('900.00 USD (90 %)');
    expect(row).toHaveTextContent('1,800.00 USD (180 %)');
    expect(within(row).getByTestId('budget-status')).toHaveTextContent('▲ Medium: first threshold reached');
    expect(row.dataset.status).toBe('medium');
  });

  it('adds a budget from the keyboard alone, and Escape cancels', async () => {
    const user = userEvent.setup();
    const onchange = vi.fn();
    render(Budgets, { onchange });
    await screen.findByTestId('budget-row');
    screen.getByTestId('budget-add').focus();
    await user.keyboard('{Enter}');
    // The form opens with the name focused.
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('budget-form')).toBeNull();

    await user.click(screen.getByTestId('budget-add'));
    await user.keyboard('fleet-cap');
    await user.tab();
    await user.keyboard('500');
    await user.keyboard('{Enter}');
    expect(core.invoke).toHaveBeenCalledWith('budget_set', {
      budget: { id: null, name: 'fleet-cap', scope: { kind: 'fleet' }, amount: 500, currency: 'USD', thresholds_pct: [50, 80, 100] },
    });
    const rows = await screen.findAllByTestId('budget-row');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveTextContent('✖ Critical: over budget');
    expect(onchange).toHaveBeenCalled();
    expect(screen.queryByTestId('budget-form')).toBeNull();
  });

  it('says what to fix before sending a bad budget', async () => {
    const user = userEvent.setup();
    render(Budgets);
    await screen.findByTestId('budget-row');
    await user.click(screen.getByTestId('budget-add'));
    await user.keyboard('x');
    await user.click(screen.getByTestId('budget-save'));
    expect(screen.getByTestId('budget-problem')).toHaveTextContent('The amount must be a number above 0.');
    expect(core.invoke).not.toHaveBeenCalledWith('budget_set', expect.anything());
  });

  it('edits a budget in place and deletes one after asking', async () => {
    const user = userEvent.setup();
    render(Budgets);
    await screen.findByTestId('budget-row');
    await user.click(screen.getByRole('button', { name: 'Edit budget eks' }));
    const amount = screen.getByLabelText('Amount per month');
    expect(amount).toHaveValue('1000');
    await user.clear(amount);
    await user.type(amount, '800{Enter}');
    expect(core.invoke).toHaveBeenCalledWith('budget_set', {
      budget: { id: 1, name: 'eks', scope: { kind: 'cluster', cluster_id: AWS }, amount: 800, currency: 'USD', thresholds_pct: [50, 80, 100] },
    });
    expect(await screen.findByText(/Critical: over budget/)).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Delete budget eks' }));
    // Nothing is deleted until the second, explicit click.
    expect(core.invoke).not.toHaveBeenCalledWith('budget_delete', expect.anything());
    await user.click(screen.getByTestId('budget-delete-confirm'));
    expect(core.invoke).toHaveBeenCalledWith('budget_delete', { name: 'eks' });
    expect(await screen.findByTestId('budgets-empty')).toBeInTheDocument();
  });

  it('shows a budget that could not be checked, and a refused save', async () => {
    saved[0].currency = 'EUR';
    const user = userEvent.setup();
    render(Budgets);
    expect(await screen.findByTestId('budget-status')).toHaveTextContent('Not checked: budget is in EUR but the spend is in USD');
    core.invoke.mockImplementationOnce(async () => {
      throw { kind: 'invalid_argument', message: 'a budget named "eks" already exists', hint: 'pick another name' };
    });
    await user.click(screen.getByTestId('budget-add'));
    await user.keyboard('eks');
    await user.tab();
    await user.keyboard('5{Enter}');
    expect((await screen.findAllByText(/already exists/)).length).toBeGreaterThan(0);
    expect(screen.getByTestId('budget-form')).toBeInTheDocument();
  });

  it('has no axe violations, form open', async () => {
    const user = userEvent.setup();
    render(Budgets);
    await screen.findByTestId('budget-row');
    await user.click(screen.getByTestId('budget-add'));
    const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } });
    expect(result.violations.map((v) => v.id)).toEqual([]);
  });
});
