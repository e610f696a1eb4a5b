// Pure logic of the virtualised Workloads table: which rows are on screen, which pages hold them.
import type { WorkloadKey } from './bindings/WorkloadKey';

/** Fixed row height in CSS pixels: a fixed height is what lets us place rows without measuring them. */
export const ROW_HEIGHT = 32;
/** Rows fetched per `workloads_page` call. */
export const PAGE_SIZE = 200;
/** Extra rows rendered above and below the viewport so a fast scroll does not show blanks. */
export const OVERSCAN = 6;
/** Used while the viewport has no measured height yet (first frame, tests without layout). */
export const FALLBACK_VIEWPORT_PX = 600;

export interface RowWindow {
  /** First row index (inclusive). */
  first: number;
  /** Last row index (exclusive). */
  last: number;
}

/** The rows that intersect the viewport, optionally widened by `overscan` on each side. */
export function visibleRows(scrollTop: number, viewportPx: number, total: number, overscan = 0): RowWindow {
  if (total <= 0) return { first: 0, last: 0 };
  const height = viewportPx > 0 ? viewportPx : FALLBACK_VIEWPORT_PX;
  const top = Math.max(0, scrollTop);
  const first = Math.min(total - 1, Math.floor(top / ROW_HEIGHT));
  const last = Math.min(total, Math.ceil((top + height) / ROW_HEIGHT));
  return { first: Math.max(0, first - overscan), last: Math.min(total, last + overscan) };
}

/** Indices of the pages that hold rows `first`..`last` (exclusive). */
export function pagesFor(w: RowWindow, pageSize = PAGE_SIZE): number[] {
  if (w.last <= w.first) return [];
  const out: number[] = [];
  for (let p = Math.floor(w.first / pageSize); p <= Math.floor((w.last - 1) / pageSize); p++) out.push(p);
  return out;
}

/** The scrollTop that brings row `index` fully into view, moving as little as possible. */
export function scrollToReveal(index: number, scrollTop: number, viewportPx: number): number {
  const height = viewportPx > 0 ? viewportPx : FALLBACK_VIEWPORT_PX;
  const top = index * ROW_HEIGHT;
  if (top < scrollTop) return top;
  if (top + ROW_HEIGHT > scrollTop + height) return top + ROW_HEIGHT - height;
  return scrollTop;
}

/** A stable string for a workload, for maps and keyed lists. */
export function workloadId(k: WorkloadKey): string {
  return `${k.cluster}\u0000${k.namespace}\u0000${k.name}`;
}

/** The selection after a navigation key, or null when the key is not one. */
export function moveSelection(key: string, selected: number, total: number, pageRows: number): number | null {
  if (total <= 0) return null;
  const clamp = (v: number) => Math.max(0, Math.min(total - 1, v));
  switch (key) {
    case 'ArrowDown':
      return clamp(selected + 1);
    case 'ArrowUp':
      return clamp(selected - 1);
    case 'PageDown':
      return clamp(selected + Math.max(1, pageRows - 1));
    case 'PageUp':
      return clamp(selected - Math.max(1, pageRows - 1));
    case 'Home':
      return 0;
    case 'End':
      return total - 1;
    default:
      return null;
  }
}
