// The Cluster screen's events timeline: folded by involved object and reason (the collector folds them
// already; a repeat in one answer is folded again rather than shown twice), most recent first.
import type { ClusterEvent } from './bindings/ClusterEvent';

export function isWarning(e: Pick<ClusterEvent, 'event_type'>): boolean {
  return e.event_type.toLowerCase() === 'warning';
}

/** Type as an icon and a word (never colour alone). */
export function eventTypeLabel(e: Pick<ClusterEvent, 'event_type'>): { icon: string; word: string } {
  return isWarning(e) ? { icon: '⚠', word: 'Warning' } : { icon: '●', word: e.event_type || 'Normal' };
}

export function eventKey(e: ClusterEvent): string {
  return [e.namespace, e.involved_kind, e.involved_name, e.reason].join('\u0000');
}

export function timeline(events: readonly ClusterEvent[], warningsOnly: boolean): ClusterEvent[] {
  const by = new Map<string, ClusterEvent>();
  for (const e of events) {
    if (warningsOnly && !isWarning(e)) continue;
    const k = eventKey(e);
    const seen = by.get(k);
    if (!seen) {
      by.set(k, { ...e });
      continue;
    }
    const newer = (e.last_seen ?? 0) > (seen.last_seen ?? 0);
    by.set(k, {
      ...(newer ? e : seen),
      count: seen.count + e.count,
      first_seen: minOf(seen.first_seen, e.first_seen),
      last_seen: maxOf(seen.last_seen, e.last_seen),
      // A warning among the folded ones keeps the row a warning.
      event_type: isWarning(seen) || isWarning(e) ? 'Warning' : seen.event_type,
    });
  }
  return [...by.values()].sort((a, b) => (b.last_seen ?? b.first_seen ?? 0) - (a.last_seen ?? a.first_seen ?? 0));
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
