import { describe, expect, it } from 'vitest';
import { FALLBACK_VIEWPORT_PX, ROW_HEIGHT, moveSelection, pagesFor, scrollToReveal, visibleRows, workloadId } from './workloads';

describe('visibleRows', () => {
  it('covers the rows that intersect the viewport', () => {
    expect(visibleRows(0, 320, 30_000)).toEqual({ first: 0, last: 10 });
    // Half a row scrolled: the partly visible rows at both ends count.
    expect(visibleRows(16, 320, 30_000)).toEqual({ first: 0, last: 11 });
    expect(visibleRows(100 * ROW_HEIGHT, 320, 30_000)).toEqual({ first: 100, last: 110 });
  });

  it('widens by the overscan, within the table', () => {
    expect(visibleRows(100 * ROW_HEIGHT, 320, 30_000, 5)).toEqual({ first: 95, last: 115 });
    expect(visibleRows(0, 320, 30_000, 5)).toEqual({ first: 0, last: 15 });
    expect(visibleRows(29_995 * ROW_HEIGHT, 320, 30_000, 5)).toEqual({ first: 29_990, last: 30_000 });
  });

  it('handles an empty or short table, and an unmeasured viewport', () => {
    expect(visibleRows(0, 320, 0)).toEqual({ first: 0, last: 0 });
    expect(visibleRows(0, 320, 3)).toEqual({ first: 0, last: 3 });
    expect(visibleRows(0, 0, 30_000).last).toBe(Math.ceil(FALLBACK_VIEWPORT_PX / ROW_HEIGHT));
  });
});

describe('pagesFor', () => {
  it('lists the pages a window spans', () => {
    expect(pagesFor({ first: 0, last: 20 }, 200)).toEqual([0]);
    expect(pagesFor({ first: 195, last: 215 }, 200)).toEqual([0, 1]);
    expect(pagesFor({ first: 200, last: 400 }, 200)).toEqual([1]);
    expect(pagesFor({ first: 0, last: 0 }, 200)).toEqual([]);
  });
});

describe('keyboard selection', () => {
  it('moves, pages and jumps within the table', () => {
    expect(moveSelection('ArrowDown', 0, 10, 5)).toBe(1);
    expect(moveSelection('ArrowUp', 0, 10, 5)).toBe(0);
    expect(moveSelection('ArrowDown', 9, 10, 5)).toBe(9);
    expect(moveSelection('PageDown', 0, 10, 5)).toBe(4);
    expect(moveSelection('PageUp', 9, 10, 5)).toBe(5);
    expect(moveSelection('Home', 7, 10, 5)).toBe(0);
    expect(moveSelection('End', 0, 10, 5)).toBe(9);
    expect(moveSelection('x', 0, 10, 5)).toBeNull();
    expect(moveSelection('End', 0, 0, 5)).toBeNull();
  });

  it('scrolls just enough to reveal the selected row', () => {
    expect(scrollToReveal(5, 0, 320)).toBe(0);
    expect(scrollToReveal(10, 0, 320)).toBe(11 * ROW_HEIGHT - 320);
    expect(scrollToReveal(2, 10 * ROW_HEIGHT, 320)).toBe(2 * ROW_HEIGHT);
  });

  it('keys workloads by cluster, namespace and name', () => {
    expect(workloadId({ cluster: 'a', namespace: 'b', name: 'c' })).not.toBe(
      workloadId({ cluster: 'a', namespace: 'bc', name: '' }),
    );
  });
});
