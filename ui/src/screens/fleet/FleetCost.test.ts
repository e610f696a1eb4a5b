import { render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FleetCostView } from '../../lib/bindings/FleetCostView';
import { resetEvents } from '../../test/events';
import { NOW, overview } from '../../test/fixtures';

const core = vi.hoisted(() => ({ invoke: vi.fn(), isTauri: () => true }));
vi.mock('@tauri-apps/api/core', () => core);
vi.mock('@tauri-apps/api/event', () => import('../../test/events'));

import Fleet from './Fleet.svelte';

const COST: FleetCostView = {
  month: '2025-11',
  clusters: [
    { cluster_id: 'aws/prod/eu-west-1/checkout', currency: 'USD', amount: 1234.5, source: 'actual', source_words: 'actual (billing data)' },
    {
      cluster_id: 'gcp/shop-prod/europe-west1/payments',
      currency: 'USD',
      amount: 310.25,
      source: 'estimate',
      source_words: 'estimate (node hours × list price)',
    },
    { cluster_id: 'gcp/shop-prod/europe-west1/payments', currency: 'EUR', amount: 12, source: 'actual', source_words: 'actual (billing data)' },
  ],
  currencies: [
    {
      currency: 'USD',
      month_to_date: 1544.75,
      source_words: 'actual and estimate',
      forecast: {
        currency: 'USD',
        through: '2025-11-21',
        spent_to_date: 1544.75,
        total: 2200,
        low: 2100,
        high: 2350,
        level: 0.8,
        method: 'SeasonalNaive',
        notes: [],
      },
    },
    { currency: 'EUR', month_to_date: 12, source_words: 'actual', forecast: null },
  ],
  data_age_secs: 7200,
  notes: [],
};

function backend(cost: FleetCostView | 'fail') {
  core.invoke.mockImplementation(async (cmd: string) => {
    if (cmd === 'fleet_overview') return overview();
    if (cmd === 'fleet_cost') {
      if (cost === 'fail') throw { kind: 'store', message: 'locked', hint: '' };
      return cost;
    }
    throw { kind: 'not_found', message: `no command ${cmd}`, hint: '' };
  });
}

beforeEach(() => {
  core.invoke.mockReset();
  resetEvents();
  vi.spyOn(Date, 'now').mockReturnValue(NOW * 1000);
});

afterEach(() => vi.restoreAllMocks());

describe('Fleet cost', () => {
  it('shows each cluster month to date with actual or estimate, and the fleet per currency with its forecast and age', async () => {
    backend(COST);
    render(Fleet);
    const header = await screen.findByTestId('fleet-cost');
    expect(core.invoke).toHaveBeenCalledWith('fleet_cost', undefined);
    expect(header).toHaveTextContent('Cost, 2025-11');
    const cur = within(header).getAllByTestId('fleet-cost-currency');
    expect(cur[0]).toHaveTextContent(
      '1,544.75 USD month to date (actual and estimate), forecast 2,200.00 USD (2,100.00 USD–2,350.00 USD) by month end',
    );
    expect(cur[1]).toHaveTextContent('12.00 EUR month to date (actual)');
    expect(cur[1]).not.toHaveTextContent('forecast');
    expect(screen.getByTestId('fleet-cost-age')).toHaveTextContent('cost data 2 h ago');

    const rows = await screen.findAllByTestId('cluster-row');
    const costOf = (id: string) =>
      within(rows.find((r) => r.dataset.clusterId === id)!).getByTestId('cluster-cost');
    expect(costOf('aws/prod/eu-west-1/checkout')).toHaveTextContent('1,234.50 USD actual');
    const payments = costOf('gcp/shop-prod/europe-west1/payments');
    expect(payments).toHaveTextContent('310.25 USD estimate');
    expect(payments).toHaveTextContent('12.00 EUR actual');
    expect(payments).toHaveAttribute('title', '310.25 USD (estimate) · 12.00 EUR (actual)');
    // A cluster without cost rows says so instead of showing 0.
    const others = rows.filter((r) => !['aws/prod/eu-west-1/checkout', 'gcp/shop-prod/europe-west1/payments'].includes(r.dataset.clusterId!));
    expect(within(others[0]).getByTestId('cluster-cost')).toHaveTextContent('no cost data');
  });

  it('keeps the fleet when the cost cannot be read', async () => {
    backend('fail');
    render(Fleet);
    expect(await screen.findAllByTestId('cluster-row')).toHaveLength(4);
    expect(screen.queryByTestId('fleet-cost')).toBeNull();
    expect(screen.getAllByTestId('cluster-cost')[0]).toHaveTextContent('—');
  });
});
