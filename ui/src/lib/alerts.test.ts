import { describe, expect, it } from 'vitest';
import type { Alert } from './bindings/Alert';
import {
  DEFAULT_FILTERS,
  alertKeyAction,
  bulkSummary,
  clusterLabel,
  clustersOf,
  filterAlerts,
  formatAlertValue,
  pruneSelection,
  selectRange,
  sortAlerts,
  targetsOf,
  toggle,
  toggleAllShown,
  unacknowledgedCount,
} from './alerts';

const C1 = 'aws/prod/eu-west-1/payments';
const C2 = 'do/team/fra1/edge';

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 1,
    key: 'k',
    cluster_id: C1,
    subject: 'service/checkout',
    rule: 'service_p95',
    severity: 'medium',
    state: 'open',
    first_seen: 1000,
    last_seen: 2000,
    count: 1,
    value: 1.5,
    threshold: 1,
    message: 'p95 1.5 s in checkout on payments',
    acknowledged_at: null,
    acknowledged_by: null,
    resolved_at: null,
    resolved_by: null,
    last_notified_at: null,
    escalations: 0,
    ...over,
  };
}

const LIST: Alert[] = [
  alert({ id: 1, severity: 'medium', last_seen: 3000 }),
  alert({ id: 2, severity: 'critical', last_seen: 1000, cluster_id: C2, subject: 'node/n1', rule: 'node_cpu', message: 'CPU 97% on n1' }),
  alert({ id: 3, severity: 'critical', last_seen: 2000 }),
  alert({ id: 4, severity: 'high', state: 'acknowledged', last_seen: 2500 }),
  alert({ id: 5, severity: 'critical', state: 'resolved', last_seen: 9000 }),
];
const ids = (a: Alert[]) => a.map((x) => x.id);

describe('filters and order', () => {
  it('shows open and acknowledged by default, worst first, then newest', () => {
    expect(ids(filterAlerts(LIST, DEFAULT_FILTERS))).toEqual([3, 2, 4, 1]);
  });

  it('filters by state, severity, cluster and text', () => {
    const f = (over: Partial<typeof DEFAULT_FILTERS>) => ids(filterAlerts(LIST, { ...DEFAULT_FILTERS, ...over }));
    expect(f({ state: 'open' })).toEqual([3, 2, 1]);
    expect(f({ state: 'acknowledged' })).toEqual([4]);
    expect(f({ state: 'resolved' })).toEqual([5]);
    expect(f({ state: 'all' })).toEqual([3, 2, 4, 1, 5]);
    expect(f({ minSeverity: 'high' })).toEqual([3, 2, 4]);
    expect(f({ minSeverity: 'critical' })).toEqual([3, 2]);
    expect(f({ cluster: C2 })).toEqual([2]);
    expect(f({ text: '  CPU ' })).toEqual([2]);
    expect(f({ text: 'node cpu' })).toEqual([2]);
    expect(f({ text: 'fra1' })).toEqual([2]);
    expect(f({ text: 'nothing like it' })).toEqual([]);
  });

  it('sorts resolved alerts after live ones whatever their severity', () => {
    expect(ids(sortAlerts(LIST))).toEqual([3, 2, 4, 1, 5]);
  });

  it('lists clusters once, counts open unacknowledged alerts', () => {
    expect(clustersOf(LIST)).toEqual([C1, C2]);
    expect(unacknowledgedCount(LIST)).toBe(3);
  });

  it('labels clusters and values in the rule’s unit', () => {
    expect(clusterLabel(C1)).toBe('payments · eu-west-1');
    expect(clusterLabel('odd')).toBe('odd');
    expect(formatAlertValue('service_p95', 5.5)).toBe('5.5 s');
    expect(formatAlertValue('node_cpu', 97.46)).toBe('97%');
    expect(formatAlertValue('service_error_rate', 6.25)).toBe('6.3%');
    expect(formatAlertValue('log_new_pattern', 12)).toBe('12 lines');
    expect(formatAlertValue('log_pattern_spike', 7.25)).toBe('7.3× usual');
    expect(formatAlertValue('log_pattern_spike', 430.2)).toBe('430× usual');
  });
});

describe('selection', () => {
  const shown = filterAlerts(LIST, DEFAULT_FILTERS); // 3, 2, 4, 1

  it('toggles one id', () => {
    const s = toggle(new Set(), 3);
    expect([...s]).toEqual([3]);
    expect([...toggle(s, 3)]).toEqual([]);
  });

  it('selects a range in either direction and keeps what was selected', () => {
    expect([...selectRange(new Set([5]), shown, 1, 3)].sort()).toEqual([1, 2, 4, 5]);
    expect([...selectRange(new Set(), shown, 2, 0)].sort()).toEqual([2, 3, 4]);
    expect([...selectRange(new Set(), shown, 0, 99)].sort()).toEqual([1, 2, 3, 4]);
  });

  it('selects all shown, or none when all are selected', () => {
    const all = toggleAllShown(new Set([2]), shown);
    expect([...all].sort()).toEqual([1, 2, 3, 4]);
    expect(toggleAllShown(all, shown).size).toBe(0);
    expect(toggleAllShown(new Set(), []).size).toBe(0);
  });

  it('drops hidden ids and acts on the selection, else the current row', () => {
    expect([...pruneSelection(new Set([1, 5, 42]), shown)]).toEqual([1]);
    expect(ids(targetsOf(shown, new Set([1, 3]), 0))).toEqual([3, 1]);
    expect(ids(targetsOf(shown, new Set(), 2))).toEqual([4]);
    expect(targetsOf([], new Set(), 0)).toEqual([]);
  });
});

describe('keyboard', () => {
  const key = (k: string, mods: Partial<KeyboardEvent> = {}) => ({
    key: k,
    shiftKey: false,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    ...mods,
  });

  it('moves with j/k and the arrows, clamped, and leaves upwards from the top', () => {
    expect(alertKeyAction(key('j'), 0, 3)).toEqual({ kind: 'move', to: 1 });
    expect(alertKeyAction(key('ArrowDown'), 2, 3)).toEqual({ kind: 'move', to: 2 });
    expect(alertKeyAction(key('k'), 2, 3)).toEqual({ kind: 'move', to: 1 });
    expect(alertKeyAction(key('ArrowUp'), 0, 3)).toEqual({ kind: 'above' });
    expect(alertKeyAction(key('End'), 0, 3)).toEqual({ kind: 'move', to: 2 });
  });

  it('maps Enter, Space, Shift+Space, a, r, Ctrl+A and Esc', () => {
    expect(alertKeyAction(key('Enter'), 0, 3)?.kind).toBe('open');
    expect(alertKeyAction(key(' '), 0, 3)?.kind).toBe('toggle');
    expect(alertKeyAction(key(' ', { shiftKey: true }), 0, 3)?.kind).toBe('range');
    expect(alertKeyAction(key('a'), 0, 3)?.kind).toBe('acknowledge');
    expect(alertKeyAction(key('r'), 0, 3)?.kind).toBe('resolve');
    expect(alertKeyAction(key('a', { ctrlKey: true }), 0, 3)?.kind).toBe('select-all');
    expect(alertKeyAction(key('A', { metaKey: true }), 0, 3)?.kind).toBe('select-all');
    expect(alertKeyAction(key('Escape'), 0, 3)?.kind).toBe('clear');
  });

  it('leaves modified letters to the shell (Ctrl+R, Ctrl+K) and ignores other keys', () => {
    expect(alertKeyAction(key('r', { ctrlKey: true }), 0, 3)).toBeNull();
    expect(alertKeyAction(key('k', { ctrlKey: true }), 0, 3)).toBeNull();
    expect(alertKeyAction(key('x'), 0, 3)).toBeNull();
  });
});

describe('bulk summary', () => {
  it('says how many changed and why others were skipped', () => {
    expect(bulkSummary('acknowledged', 3, [])).toBe('3 acknowledged');
    expect(bulkSummary('resolved', 1, [{ id: 7, message: 'alert 7 is already resolved' }])).toBe(
      '1 resolved; 1 skipped: alert 7 is already resolved',
    );
  });
});
