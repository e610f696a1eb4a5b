// Pure helpers of the Cost screen: money, ages and the chart's hover in words (tested in cost.test.ts).
import type { CostBar } from './bindings/CostBar';
import type { CostChartLayout } from './bindings/CostChartLayout';
import type { CostTotal } from './bindings/CostTotal';
import type { FleetClusterCost } from './bindings/FleetClusterCost';
import type { FleetCostView } from './bindings/FleetCostView';
import type { FleetCurrencyCost } from './bindings/FleetCurrencyCost';

export function money(amount: number, currency: string): string {
  const sign = amount < 0 ? '−' : '';
  return `${sign}${Math.abs(amount).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
}

/** "3 h ago", "12 min ago", "2 d ago"; null: never fetched. */
export function age(secs: number | null): string {
  if (secs === null) return 'never fetched';
  if (secs < 60) return 'just now';
  if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
  if (secs < 86_400) return `${Math.floor(secs / 3600)} h ago`;
  return `${Math.floor(secs / 86_400)} d ago`;
}

/** The figure of a total in words: always says whether it is the bill or our estimate. */
export function totalInWords(t: CostTotal): string {
  const what = t.mixed ? 'actual and estimate' : t.shown_source === 'actual' ? 'actual' : 'estimate';
  let s = `${money(t.shown, t.currency)} (${what})`;
  if (t.actual !== null && t.estimate !== null && !t.mixed) s += `; estimate ${money(t.estimate, t.currency)}`;
  return s;
}

/** The bar under an x in the SVG's own coordinates. */
export function barAt(layout: CostChartLayout, x: number): number | null {
  const i = layout.bars.findIndex((b) => x >= b.x0 && x < b.x1);
  return i < 0 ? null : i;
}

/** One bar in words, for the tooltip and the live region. */
export function barInWords(layout: CostChartLayout, bar: CostBar): string {
  const cur = layout.currency;
  if (bar.forecast) {
    const range = bar.low !== null && bar.high !== null ? ` (${money(bar.low, cur)} to ${money(bar.high, cur)})` : '';
    return `${bar.day}, forecast: ${money(bar.total, cur)}${range}`;
  }
  const parts = layout.legend
    .map((l, i) => ({ l, v: bar.amounts[i] ?? 0 }))
    .filter((p) => p.v !== 0)
    .map((p) => `${p.l.label}${p.l.estimate ? ' (estimate)' : ''} ${money(p.v, cur)}`);
  return `${bar.day}: ${money(bar.total, cur)}${parts.length ? ` — ${parts.join(', ')}` : ''}`;
}

/** A Fleet-cost answer, checked: the tests' generic mocks answer every command with one value. */
export function isFleetCost(v: unknown): v is FleetCostView {
  const o = v as FleetCostView | null;
  return !!o && typeof o === 'object' && Array.isArray(o.clusters) && Array.isArray(o.currencies);
}

/** A cluster's month to date in words, per currency: "1,234.00 USD (actual)". */
export function clusterCostInWords(rows: FleetClusterCost[]): string {
  return rows.map((r) => `${money(r.amount, r.currency)} (${r.source})`).join(' · ');
}

/** The fleet's month to date and month-end forecast in one currency, in words. */
export function fleetCurrencyInWords(c: FleetCurrencyCost): string {
  let s = `${money(c.month_to_date, c.currency)} month to date (${c.source_words})`;
  const f = c.forecast;
  if (f) {
    s += `, forecast ${money(f.total, c.currency)}`;
    // A spent-out month has no spread left: no interval then.
    if (f.low !== null && f.high !== null && f.high - f.low >= 0.005) {
      s += ` (${money(f.low, c.currency)}–${money(f.high, c.currency)})`;
    }
    s += ' by month end';
  }
  return s;
}
