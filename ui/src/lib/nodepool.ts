// The node-pool dialog's logic, kept out of the component so vitest can check it.
import type { NodePoolPlan } from './bindings/NodePoolPlan';
import type { PoolCost } from './bindings/PoolCost';

/** `cloudops_core::plan::nodepool::MAX_POOL_NODES`. */
export const MAX_POOL_NODES = 1000;

/** The node count typed in the dialog, or null when it is not a whole number in 0..=1000. */
export function parseNodeCount(text: string): number | null {
  const t = text.trim();
  if (!/^\d{1,4}$/.test(t)) return null;
  const n = Number(t);
  return n <= MAX_POOL_NODES ? n : null;
}

/** Whether Confirm may be pressed: never for a no-op, and only with the pool's exact name typed when asked. */
export function canConfirmPool(plan: NodePoolPlan, typed: string): boolean {
  if (plan.from === plan.to) return false;
  if (plan.typed_confirmation !== null) return typed === plan.typed_confirmation;
  return true;
}

/** "+140.16 USD/month (0.096 USD per node-hour)", signed, for the preview. */
export function formatPoolCost(c: PoolCost): string {
  const sign = c.monthly_delta > 0 ? '+' : c.monthly_delta < 0 ? '−' : '±';
  return `${sign}${Math.abs(c.monthly_delta).toFixed(2)} ${c.currency}/month (${c.hourly_per_node} ${c.currency} per node-hour)`;
}

/** The pool's bounds as shown in the table: "1–10", or "not reported" when the cloud gives none. */
export function poolBounds(min: number | null, max: number | null): string {
  if (min === null && max === null) return 'not reported';
  return `${min ?? 0}–${max ?? MAX_POOL_NODES}`;
}

/** The key on a focused node-pool row: s opens the scale dialog. */
export function poolActionForKey(e: KeyboardEvent): 'scale' | null {
  return e.key === 's' && !e.ctrlKey && !e.metaKey && !e.altKey ? 'scale' : null;
}
