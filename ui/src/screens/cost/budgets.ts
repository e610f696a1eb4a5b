// Pure helpers of the Budgets section (tested in Budgets.test.ts): status in words with an icon, and the form's
// draft checked and turned into a Budget before it is sent (the backend validates again).
import type { Budget } from '../../lib/bindings/Budget';
import type { BudgetScope } from '../../lib/bindings/BudgetScope';

export type ScopeKind = BudgetScope['kind'];

/** The form's fields, as typed. */
export type Draft = {
  id: number | null;
  name: string;
  amount: string;
  currency: string;
  scopeKind: ScopeKind;
  /** Cloud, cluster id or tag key. */
  scopeValue: string;
  tagValue: string;
  t1: string;
  t2: string;
  t3: string;
};

/** A status is always a word with an icon, never a colour alone. */
export const STATUS: Record<string, { icon: string; word: string }> = {
  ok: { icon: '✓', word: 'Within budget' },
  medium: { icon: '▲', word: 'Medium: first threshold reached' },
  high: { icon: '▲▲', word: 'High: second threshold reached' },
  critical: { icon: '✖', word: 'Critical: over budget' },
};

/** [kind, value, tag value] of a scope, for the form. */
export function scopeText(s: BudgetScope): [ScopeKind, string, string] {
  switch (s.kind) {
    case 'fleet':
      return ['fleet', '', ''];
    case 'cloud':
      return ['cloud', s.cloud, ''];
    case 'cluster':
      return ['cluster', s.cluster_id, ''];
    case 'tag':
      return ['tag', s.key, s.value];
  }
}

const CLOUDS = ['aws', 'gcp', 'azure', 'do'];

export function scopeOf(d: Draft): BudgetScope {
  switch (d.scopeKind) {
    case 'fleet':
      return { kind: 'fleet' };
    case 'cloud':
      // The select shows AWS first; a value left from another kind is not a cloud.
      return { kind: 'cloud', cloud: CLOUDS.includes(d.scopeValue) ? d.scopeValue : 'aws' };
    case 'cluster':
      return { kind: 'cluster', cluster_id: d.scopeValue.trim() };
    case 'tag':
      return { kind: 'tag', key: d.scopeValue.trim(), value: d.tagValue.trim() };
  }
}

function num(s: string): number {
  const t = s.trim();
  return t === '' ? NaN : Number(t);
}

/** The budget to send, or what to fix, in words. */
export function validateDraft(d: Draft): Budget | string {
  const name = d.name.trim();
  if (!name) return 'Give the budget a name.';
  const amount = num(d.amount);
  if (!Number.isFinite(amount) || amount <= 0) return 'The amount must be a number above 0.';
  const currency = d.currency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) return 'The currency is a three-letter code such as USD or EUR.';
  const t: [number, number, number] = [num(d.t1), num(d.t2), num(d.t3)];
  if (t.some((v) => !Number.isFinite(v) || v <= 0) || t[0] >= t[1] || t[1] >= t[2]) {
    return 'The thresholds must be three rising percentages above 0, such as 50, 80, 100.';
  }
  const scope = scopeOf(d);
  if ((scope.kind === 'cluster' && !scope.cluster_id) || (scope.kind === 'tag' && !scope.key)) {
    return 'Say which cluster or tag the budget covers.';
  }
  return { id: d.id, name, scope, amount, currency, thresholds_pct: t };
}
