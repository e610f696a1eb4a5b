// The action dialog's and the Actions screen's logic, kept out of the components so vitest can check it.
import type { AuditFilter } from './bindings/AuditFilter';
import type { AuditRow } from './bindings/AuditRow';
import type { ScalePlan } from './bindings/ScalePlan';

/** Sent on window when read-only mode changes, so the top bar and the action buttons follow at once. */
export const READ_ONLY_CHANGED = 'cloudops:read-only-changed';

/** The tooltip on every disabled action button in read-only mode. */
export const READ_ONLY_TOOLTIP = 'Read-only mode is on (Settings): actions are disabled.';

export type ActionKind = 'scale' | 'restart' | 'undo';

/** The keys on a focused Workloads row (k9s-like): s scale, r restart, u undo. */
export function actionForKey(key: string): ActionKind | null {
  switch (key) {
    case 's':
      return 'scale';
    case 'r':
      return 'restart';
    case 'u':
      return 'undo';
    default:
      return null;
  }
}

/** Only deployments have the scale subresource and rollouts the executors handle. */
export function actionable(kind: string): boolean {
  return kind.toLowerCase() === 'deployment';
}

export const MAX_REPLICAS = 10_000;

/** The replica count typed in the dialog, or null when it is not a whole number in 0..=10000. */
export function parseReplicas(text: string): number | null {
  const t = text.trim();
  if (!/^\d{1,5}$/.test(t)) return null;
  const n = Number(t);
  return n <= MAX_REPLICAS ? n : null;
}

/** Whether Confirm may be pressed: never for a no-op, and only with the exact name typed when one is asked. */
export function canConfirmScale(plan: ScalePlan, typed: string): boolean {
  if (plan.from === plan.to) return false;
  if (plan.typed_confirmation !== null) return typed === plan.typed_confirmation;
  return true;
}

/** `ready / replicas` as a fraction 0..1 for the progress bar (1 when the target is zero and nothing is left). */
export function progressFraction(ready: number, target: number): number {
  if (target <= 0) return ready <= 0 ? 1 : 0;
  return Math.max(0, Math.min(1, ready / target));
}

/** The rows the Actions screen shows for a filter (the backend's export filters the same way). */
export function filterAudit(rows: AuditRow[], f: AuditFilter): AuditRow[] {
  const action = f.action ?? '';
  const outcome = f.outcome ?? '';
  const text = (f.text ?? '').trim().toLowerCase();
  return rows.filter(
    (r) =>
      (action === '' || r.action === action) &&
      (outcome === '' || r.outcome === outcome) &&
      (text === '' || [r.actor, r.target, r.action, r.detail].some((v) => v.toLowerCase().includes(text))),
  );
}

/** The distinct actions in the rows, sorted, for the filter's menu. */
export function auditActions(rows: AuditRow[]): string[] {
  return [...new Set(rows.map((r) => r.action))].sort();
}

export const OUTCOMES = ['started', 'succeeded', 'failed', 'cancelled'] as const;
