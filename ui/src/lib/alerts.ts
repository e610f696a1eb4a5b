// The Alerts screen's logic, kept out of the components so it can be tested alone: filters, the
// worst-and-newest-first order, multi-selection, and what each key does in the list.
import type { Alert } from './bindings/Alert';
import type { AlertRule } from './bindings/AlertRule';
import { formatPct, formatSeconds } from './format';

export type Severity = Alert['severity'];

/** `active` = open + acknowledged (what needs attention); `resolved` is the paged history. */
export type StateFilter = 'active' | 'open' | 'acknowledged' | 'resolved' | 'all';

export const STATE_FILTERS: readonly { id: StateFilter; label: string }[] = [
  { id: 'active', label: 'Open and acknowledged' },
  { id: 'open', label: 'Open' },
  { id: 'acknowledged', label: 'Acknowledged' },
  { id: 'resolved', label: 'Resolved (history)' },
  { id: 'all', label: 'All' },
];

export interface AlertFilters {
  state: StateFilter;
  /** '' = every severity; otherwise this severity and worse. */
  minSeverity: Severity | '';
  /** '' = every cluster. */
  cluster: string;
  text: string;
}

export const DEFAULT_FILTERS: AlertFilters = { state: 'active', minSeverity: '', cluster: '', text: '' };

const RANK: Record<Severity, number> = { medium: 1, high: 2, critical: 3 };

export function severityRank(s: Severity): number {
  return RANK[s] ?? 0;
}

export const SEVERITY_LABEL: Record<Severity, string> = { medium: 'Medium', high: 'High', critical: 'Critical' };

export const RULE_LABEL: Record<AlertRule, string> = {
  node_cpu: 'Node CPU',
  node_memory: 'Node memory',
  node_disk: 'Node disk',
  service_p95: 'Service p95 latency',
  service_error_rate: 'Service error rate',
  log_new_pattern: 'New error log pattern',
  log_pattern_spike: 'Error log spike',
  budget_actual: 'Budget spent',
  budget_forecast: 'Budget forecast',
};

/** The value in the rule's unit: seconds for p95, percent otherwise. */
export function formatAlertValue(rule: AlertRule, v: number): string {
  switch (rule) {
    case 'service_p95':
      return formatSeconds(v);
    case 'log_new_pattern':
      return `${Math.round(v)} lines`;
    case 'log_pattern_spike':
      return `${v >= 10 ? Math.round(v) : v.toFixed(1)}× usual`;
    case 'budget_actual':
    case 'budget_forecast':
      return `${Math.round(v)} % of budget`;
    default:
      return formatPct(v);
  }
}

/** `provider/account/region/name` → "name · region"; any other id as it is. */
export function clusterLabel(id: string): string {
  const parts = id.split('/');
  return parts.length === 4 && parts[3] ? `${parts[3]} · ${parts[2]}` : id;
}

function matchesState(a: Alert, state: StateFilter): boolean {
  switch (state) {
    case 'active':
      return a.state !== 'resolved';
    case 'all':
      return true;
    default:
      return a.state === state;
  }
}

/** The alerts the filters let through, in display order. */
export function filterAlerts(alerts: readonly Alert[], f: AlertFilters): Alert[] {
  const needle = f.text.trim().toLowerCase();
  const min = f.minSeverity ? severityRank(f.minSeverity) : 0;
  return sortAlerts(
    alerts.filter(
      (a) =>
        matchesState(a, f.state) &&
        severityRank(a.severity) >= min &&
        (!f.cluster || a.cluster_id === f.cluster) &&
        (!needle ||
          [a.message, a.subject, a.cluster_id, RULE_LABEL[a.rule] ?? a.rule, a.severity, a.state].some((s) =>
            s.toLowerCase().includes(needle),
          )),
    ),
  );
}

/**
 * Worst first, then newest activity first; resolved ones after the live ones (the history view has
 * only resolved alerts, where newest resolution first is what the backend already returns).
 */
export function sortAlerts(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort(
    (a, b) =>
      Number(a.state === 'resolved') - Number(b.state === 'resolved') ||
      severityRank(b.severity) - severityRank(a.severity) ||
      b.last_seen - a.last_seen ||
      b.id - a.id,
  );
}

/** Distinct clusters of a list, for the cluster filter. */
export function clustersOf(alerts: readonly Alert[]): string[] {
  return [...new Set(alerts.map((a) => a.cluster_id))].sort();
}

/** Open and not yet acknowledged: the nav badge's count. */
export function unacknowledgedCount(alerts: readonly Alert[]): number {
  return alerts.filter((a) => a.state === 'open').length;
}

// ---- selection ----

/** Space: add or remove one id. */
export function toggle(selected: ReadonlySet<number>, id: number): Set<number> {
  const next = new Set(selected);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

/** Shift+Space / Shift+click: select every row between the anchor and `to` (inclusive), keeping the rest. */
export function selectRange(
  selected: ReadonlySet<number>,
  shown: readonly Alert[],
  anchor: number,
  to: number,
): Set<number> {
  const next = new Set(selected);
  const [lo, hi] = anchor <= to ? [anchor, to] : [to, anchor];
  for (let i = Math.max(0, lo); i <= Math.min(hi, shown.length - 1); i++) next.add(shown[i].id);
  return next;
}

/** "Select all shown": every visible row; when they are all selected already, none. */
export function toggleAllShown(selected: ReadonlySet<number>, shown: readonly Alert[]): Set<number> {
  const all = shown.length > 0 && shown.every((a) => selected.has(a.id));
  return all ? new Set() : new Set(shown.map((a) => a.id));
}

/** Drops ids that are no longer shown (after a filter change or a reload), so no hidden row is acted on. */
export function pruneSelection(selected: ReadonlySet<number>, shown: readonly Alert[]): Set<number> {
  const ids = new Set(shown.map((a) => a.id));
  return new Set([...selected].filter((id) => ids.has(id)));
}

/** The alerts an action applies to: the selection when there is one, else the focused row. */
export function targetsOf(shown: readonly Alert[], selected: ReadonlySet<number>, current: number): Alert[] {
  if (selected.size) return shown.filter((a) => selected.has(a.id));
  return shown[current] ? [shown[current]] : [];
}

export const canAcknowledge = (a: Alert) => a.state === 'open';
export const canResolve = (a: Alert) => a.state !== 'resolved';

// ---- keyboard ----

export type AlertKeyAction =
  | { kind: 'move'; to: number }
  | { kind: 'above' }
  | { kind: 'open' }
  | { kind: 'toggle' }
  | { kind: 'range' }
  | { kind: 'acknowledge' }
  | { kind: 'resolve' }
  | { kind: 'select-all' }
  | { kind: 'clear' }
  | null;

type Key = Pick<KeyboardEvent, 'key' | 'shiftKey' | 'ctrlKey' | 'metaKey' | 'altKey'>;

/**
 * What a key does on row `i` of `length`: j/k or arrows move, Home/End jump, Enter opens the detail,
 * Space toggles (Shift+Space selects the range from the anchor), `a` acknowledges, `r` resolves,
 * Ctrl/Cmd+A selects all shown, Esc clears the selection. Other modified keys belong to the shell.
 */
export function alertKeyAction(e: Key, i: number, length: number): AlertKeyAction {
  if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'a') return { kind: 'select-all' };
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  switch (e.key) {
    case 'ArrowDown':
    case 'j':
      return { kind: 'move', to: Math.max(0, Math.min(i + 1, length - 1)) };
    case 'ArrowUp':
    case 'k':
      return i <= 0 ? { kind: 'above' } : { kind: 'move', to: i - 1 };
    case 'Home':
      return { kind: 'move', to: 0 };
    case 'End':
      return { kind: 'move', to: Math.max(0, length - 1) };
    case 'Enter':
      return { kind: 'open' };
    case ' ':
      return e.shiftKey ? { kind: 'range' } : { kind: 'toggle' };
    case 'a':
      return { kind: 'acknowledge' };
    case 'r':
      return { kind: 'resolve' };
    case 'Escape':
      return { kind: 'clear' };
    default:
      return null;
  }
}

/** "3 acknowledged; 1 skipped: alert 7 is already resolved" for the status line after a bulk action. */
export function bulkSummary(
  verb: string,
  changed: number,
  skipped: readonly { id: number; message: string }[],
): string {
  const head = `${changed} ${verb}`;
  if (!skipped.length) return head;
  return `${head}; ${skipped.length} skipped: ${skipped.map((s) => s.message).join('; ')}`;
}
