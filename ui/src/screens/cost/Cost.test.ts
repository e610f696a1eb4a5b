import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CostView } from '../../lib/bindings/CostView';
import type { CostViewRequest } from '../../lib/bindings/CostViewRequest';
import { age, barAt, barInWords, money } from '../../lib/cost';
import Cost from './Cost.svelte';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

const AWS = 'aws/prod/us-east-1/eks1';

function view(req: CostViewRequest): CostView {
  const layout = {
    width: 960,
    height: 320,
    plot: { x: 60, y: 20, width: 880, height: 260 },
    currency: 'USD',
    y_min: 0,
    y_max: 200,
    legend: [
      { label: 'AWS', color: '#0072b2', estimate: false },
      { label: 'DigitalOcean', color: '#e69f00', estimate: true },
    ],
    bars: [
      { day: '2025-06-01', x0: 60, x1: 100, total: 110, forecast: false, low: null, high: null, amounts: [100, 10] },
      { day: '2025-06-02', x0: 100, x1: 140, total: 112, forecast: false, low: null, high: null, amounts: [102, 10] },
      { day: '2025-06-03', x0: 140, x1: 180, total: 111, forecast: true, low: 90, high: 130, amounts: [] },
    ],
  };
  return {
    month: req.month ?? '2025-06',
    currencies: ['USD'],
    clouds: [
      { provider: 'aws', cluster_id: null, label: 'AWS', currency: 'USD', actual: 202, estimate: null, shown: 202, shown_source: 'actual', mixed: false },
      { provider: 'do', cluster_id: null, label: 'DigitalOcean', currency: 'USD', actual: null, estimate: 20, shown: 20, shown_source: 'estimate', mixed: false },
    ],
    clusters: [
      { provider: 'aws', cluster_id: AWS, label: 'eks1', currency: 'USD', actual: 202, estimate: null, shown: 202, shown_source: 'actual', mixed: false },
    ],
    forecasts: [{ currency: 'USD', through: '2025-06-02', spent_to_date: 222, total: 3300, low: 3000, high: 3600, level: 0.8, method: 'HoltWinters', notes: [] }],
    budgets: [{ id: 1, name: 'eks', scope: `cluster ${AWS}`, amount: 1000, currency: 'USD', spent: 202, spent_pct: 20.2, forecast: 3300, forecast_pct: 330, status: 'high', messages: [], error: null }],
    anomalies: [{ currency: 'USD', day: '2025-06-02', actual: 400, baseline: 100, change_pct: 300, direction: 'up', severity: 'critical' }],
    breakdown:
      req.cluster === AWS
        ? { cluster_id: AWS, day: '2025-06-02', currency: 'USD', source: 'actual', total: 102, namespaces: [{ namespace: 'shop', cost: 60, share_pct: 58.8 }], idle: 42, idle_pct: 41.2, notes: [] }
        : null,
    suggestions: [
      {
        kind: 'single_replica_no_pdb',
        cluster_id: AWS,
        target: 'batch/worker',
        summary: 'one replica and no PodDisruptionBudget',
        monthly_savings: -12.5,
        currency: 'USD',
        commands: ['kubectl -n batch scale deployment/worker --replicas=2'],
        caveats: [],
        action: null,
      },
    ],
    suggestion_notes: ['Right-sizing needs the p95'],
    charts: [{ currency: 'USD', chart: { svg: '<svg xmlns="http://www.w3.org/2000/svg" width="960" height="320"></svg>', layout } }],
    fetches: [{ provider: 'aws', account: 'prod', fetched_at: 1_750_000_000, api_calls: 3, pages: 3, first_day: null, end_day: null, next_refresh_at: 0, reported_month_to_date: null, notes: [], error: null }],
    api_calls: 3,
    data_age_secs: 3 * 3600 + 120,
    notes: [],
  };
}

const budgetsList = {
  month: '2025-06',
  budgets: [
    {
      budget: { id: 1, name: 'eks', scope: { kind: 'cluster', cluster_id: AWS }, amount: 1000, currency: 'USD', thresholds_pct: [50, 80, 100] },
      view: { id: 1, name: 'eks', scope: `cluster ${AWS}`, amount: 1000, currency: 'USD', spent: 202, spent_pct: 20.2, forecast: 3300, forecast_pct: 330, status: 'high', messages: [], error: null },
    },
  ],
};

beforeEach(() => {
  core.invoke.mockReset();
  core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd === 'cost_view') return view(args.request as CostViewRequest);
    if (cmd === 'budgets_list') return budgetsList;
    if (cmd === 'cost_export') return { path: `/home/sre/Downloads/cost-${String(args.month)}.csv`, bytes: 10 };
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
});

describe('cost helpers', () => {
  it('formats money, ages and bars in words', () => {
    expect(money(1234.5, 'USD')).toBe('1,234.50 USD');
    expect(money(-3, 'EUR')).toBe('−3.00 EUR');
    expect(age(null)).toBe('never fetched');
    expect(age(3 * 3600 + 5)).toBe('3 h ago');
    expect(age(90)).toBe('1 min ago');
    const layout = view({ month: null, cluster: null }).charts[0].chart.layout;
    expect(barAt(layout, 120)).toBe(1);
    expect(barAt(layout, 10)).toBeNull();
    expect(barInWords(layout, layout.bars[0])).toBe('2025-06-01: 110.00 USD — AWS 100.00 USD, DigitalOcean (estimate) 10.00 USD');
    expect(barInWords(layout, layout.bars[2])).toBe('2025-06-03, forecast: 111.00 USD (90.00 USD to 130.00 USD)');
  });
});

describe('the Cost screen', () => {
  it('shows month to date with actual vs estimate in words, the forecast, budgets, anomalies and the age', async () => {
    render(Cost);
    const rows = await screen.findAllByTestId('cost-cloud-row');
    expect(rows[0]).toHaveTextContent('AWS202.00 USD (actual)');
    expect(rows[1]).toHaveTextContent('DigitalOcean20.00 USD (estimate)');
    expect(screen.getByTestId('cost-age')).toHaveTextContent('Cost data from 3 h ago · 3 billing API calls');
    expect(screen.getByTestId('cost-forecast')).toHaveTextContent('3,300.00 USD expected, 80 % interval 3,000.00 USD to 3,600.00 USD');
    expect(await screen.findByTestId('budget-row')).toHaveTextContent('202.00 USD (20 %)3,300.00 USD (330 %)▲▲ High');
    expect(screen.getByTestId('cost-anomalies')).toHaveTextContent('2025-06-02: 400.00 USD, up from the usual 100.00 USD (+300 %)');
    const s = screen.getByTestId('cost-suggestion');
    expect(s).toHaveTextContent('costs 12.50 USD a month');
    expect(within(s).getByText(/kubectl -n batch scale/)).toBeInTheDocument();
    expect(within(s).queryByRole('button')).toBeNull();
    expect(core.invoke).toHaveBeenCalledWith('cost_view', { request: { month: null, cluster: null } });
  });

  it('shows a day in words on hover and with the arrow keys', async () => {
    const user = userEvent.setup();
    render(Cost);
    const chart = await screen.findByTestId('cost-chart-svg');
    chart.getBoundingClientRect = () => ({ left: 0, top: 0, width: 960, height: 320, right: 960, bottom: 320, x: 0, y: 0, toJSON: () => ({}) });
    await user.pointer({ target: chart, coords: { clientX: 150, clientY: 100 } });
    expect(screen.getByTestId('cost-tooltip')).toHaveTextContent('2025-06-03, forecast: 111.00 USD');
    chart.focus();
    await user.keyboard('{Home}');
    expect(screen.getByTestId('cost-tooltip')).toHaveTextContent('2025-06-01: 110.00 USD — AWS 100.00 USD');
    await user.keyboard('{ArrowRight}');
    expect(screen.getByTestId('cost-tooltip')).toHaveTextContent('2025-06-02: 112.00 USD');
  });

  it('shows a cluster’s namespaces with idle apart, and exports CSV', async () => {
    const user = userEvent.setup();
    render(Cost);
    await user.click(await screen.findByTestId('cost-breakdown-toggle'));
    const table = await screen.findByTestId('cost-breakdown');
    expect(table).toHaveTextContent('shop60.00 USD59 %');
    expect(screen.getByTestId('cost-idle')).toHaveTextContent('Idle capacity42.00 USD41 %');
    expect(core.invoke).toHaveBeenCalledWith('cost_view', { request: { month: null, cluster: AWS } });
    await user.click(screen.getByTestId('cost-export'));
    expect(await screen.findByTestId('cost-exported')).toHaveTextContent('/home/sre/Downloads/cost-2025-06.csv');
    expect(core.invoke).toHaveBeenCalledWith('cost_export', { month: '2025-06', cluster: AWS });
  });

  it('has no axe violations', async () => {
    render(Cost);
    await screen.findAllByTestId('cost-cloud-row');
    // Contrast needs real layout (contrast.test.ts); landmarks come from the App shell this test does not render.
    const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } });
    expect(result.violations.map((v) => v.id)).toEqual([]);
  });

  it('switches months with the picker and the [ ] keys, asking the cache for that month', async () => {
    const user = userEvent.setup();
    const asked: (string | null)[] = [];
    core.invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      if (cmd === 'cost_months') return ['2025-06', '2025-05', '2025-04'];
      if (cmd === 'cost_view') {
        const req = args.request as CostViewRequest;
        asked.push(req.month);
        return view(req);
      }
      throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
    });
    render(Cost);
    const picker = (await screen.findByTestId('cost-month')) as HTMLSelectElement;
    await vi.waitFor(() => expect(within(picker).getAllByRole('option')).toHaveLength(3));
    expect(picker.value).toBe('2025-06');
    expect(screen.getByTestId('cost-month-next')).toBeDisabled();

    await user.selectOptions(picker, '2025-04');
    await vi.waitFor(() => expect(screen.getByRole('heading', { level: 2, name: /^Cost, / })).toHaveTextContent('Cost, 2025-04'));
    expect(asked).toContain('2025-04');
    expect(screen.getByTestId('cost-month-prev')).toBeDisabled();

    // A focused select keeps its own keys: the shortcuts work from the page.
    picker.blur();
    await user.keyboard(']');
    await vi.waitFor(() => expect(screen.getByRole('heading', { level: 2, name: /^Cost, / })).toHaveTextContent('Cost, 2025-05'));
    await user.keyboard('[[');
    await vi.waitFor(() => expect(screen.getByRole('heading', { level: 2, name: /^Cost, / })).toHaveTextContent('Cost, 2025-04'));
    await user.click(screen.getByTestId('cost-month-next'));
    await vi.waitFor(() => expect(screen.getByRole('heading', { level: 2, name: /^Cost, / })).toHaveTextContent('Cost, 2025-05'));
    expect(asked.at(-1)).toBe('2025-05');
  });

  it('shows the error with a retry', async () => {
    core.invoke.mockRejectedValue({ kind: 'cache', message: 'cache locked', hint: 'close the other instance' });
    render(Cost);
    expect((await screen.findAllByText(/cache locked/)).length).toBeGreaterThan(0);
    expect(screen.queryByTestId('cost-clouds')).toBeNull();
  });
});
