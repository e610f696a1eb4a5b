import { describe, expect, it } from 'vitest';
import { canConfirmPool, formatPoolCost, parseNodeCount, poolActionForKey, poolBounds } from './nodepool';

const plan = (from: number, to: number, typed: string | null = null) => ({
  cluster_id: 'c',
  pool: 'general',
  machine_type: 'm6i.large',
  from,
  to,
  min: 0,
  max: 10,
  changes: [],
  warnings: [],
  drain_fit: null,
  typed_confirmation: typed,
});

describe('node-pool dialog logic', () => {
  it('parses whole counts in range only', () => {
    expect(parseNodeCount(' 3 ')).toBe(3);
    expect(parseNodeCount('0')).toBe(0);
    expect(parseNodeCount('1000')).toBe(1000);
    for (const bad of ['', '-1', '1001', '2.5', 'x', '1e3']) expect(parseNodeCount(bad)).toBeNull();
  });

  it('confirms only a change, and a scale to zero only with the name typed', () => {
    expect(canConfirmPool(plan(3, 3), '')).toBe(false);
    expect(canConfirmPool(plan(3, 4), '')).toBe(true);
    expect(canConfirmPool(plan(3, 0, 'general'), 'genera')).toBe(false);
    expect(canConfirmPool(plan(3, 0, 'general'), 'general')).toBe(true);
  });

  it('formats the cost delta with its sign and the bounds', () => {
    const c = { hourly_per_node: 0.096, monthly_delta: 140.16, currency: 'USD', source: 's' };
    expect(formatPoolCost(c)).toBe('+140.16 USD/month (0.096 USD per node-hour)');
    expect(formatPoolCost({ ...c, monthly_delta: -70.08 })).toMatch(/^−70\.08 USD/);
    expect(poolBounds(1, 10)).toBe('1–10');
    expect(poolBounds(null, null)).toBe('not reported');
  });

  it('maps s (without modifiers) to scale', () => {
    expect(poolActionForKey(new KeyboardEvent('keydown', { key: 's' }))).toBe('scale');
    expect(poolActionForKey(new KeyboardEvent('keydown', { key: 's', ctrlKey: true }))).toBeNull();
    expect(poolActionForKey(new KeyboardEvent('keydown', { key: 'x' }))).toBeNull();
  });
});
