import { describe, expect, it } from 'vitest';
import { customRange, fromInputValue, rangeTitle, sameRange, toInputValue } from './range';

describe('custom ranges (UTC)', () => {
  it('round-trips a datetime-local value as UTC', () => {
    const t = Date.UTC(2026, 10, 22, 14, 2) / 1000;
    expect(toInputValue(t)).toBe('2026-11-22T14:02');
    expect(fromInputValue('2026-11-22T14:02')).toBe(t);
    expect(fromInputValue('')).toBeNull();
    expect(fromInputValue('yesterday')).toBeNull();
  });

  it('builds a range or says what is wrong', () => {
    expect(customRange('2026-11-22T10:00', '2026-11-22T11:00')).toEqual({
      kind: 'custom',
      start: Date.UTC(2026, 10, 22, 10) / 1000,
      end: Date.UTC(2026, 10, 22, 11) / 1000,
    });
    expect(customRange('2026-11-22T11:00', '2026-11-22T10:00')).toBe('The end must be after the start.');
    expect(customRange('', '2026-11-22T10:00')).toMatch(/both/);
  });

  it('titles presets and custom spans', () => {
    expect(rangeTitle({ kind: 'preset', preset: '7d' })).toBe('Last 7 days');
    const start = Date.UTC(2026, 10, 22, 14, 2) / 1000;
    expect(rangeTitle({ kind: 'custom', start, end: start + 300 })).toBe('2026-11-22 14:02 → 14:07 UTC');
    expect(rangeTitle({ kind: 'custom', start, end: start + 86_400 })).toBe('2026-11-22 14:02 → 2026-11-23 14:02 UTC');
    expect(sameRange({ kind: 'preset', preset: '1h' }, { kind: 'preset', preset: '1h' })).toBe(true);
    expect(sameRange({ kind: 'preset', preset: '1h' }, { kind: 'custom', start: 0, end: 1 })).toBe(false);
  });
});
