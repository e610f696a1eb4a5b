import { describe, expect, it } from 'vitest';
import { absoluteTime, formatBytes, formatCores, formatPct, formatRate, formatSeconds, isStale, plural, relativeAge } from './format';

const NOW = 1_763_800_000;

describe('relativeAge', () => {
  it.each([
    [0, 'just now'],
    [59, 'just now'],
    [60, '1 min ago'],
    [120, '2 min ago'],
    [179, '2 min ago'],
    [3599, '59 min ago'],
    [3600, '1 h ago'],
    [3 * 3600, '3 h ago'],
    [86399, '23 h ago'],
    [86400, '1 d ago'],
    [2 * 86400 + 5000, '2 d ago'],
  ])('%i s old reads "%s"', (age, text) => {
    expect(relativeAge(NOW - age, NOW)).toBe(text);
  });

  it('treats timestamps from the future (clock skew) as just now', () => {
    expect(relativeAge(NOW + 300, NOW)).toBe('just now');
  });
});

describe('absoluteTime', () => {
  it('prints UTC without milliseconds', () => {
    expect(absoluteTime(0)).toBe('1970-01-01 00:00:00 UTC');
    expect(absoluteTime(1_700_000_000)).toBe('2023-11-14 22:13:20 UTC');
  });
});

describe('isStale', () => {
  it('is stale only after three discovery intervals', () => {
    expect(isStale(NOW - 900, NOW)).toBe(false);
    expect(isStale(NOW - 901, NOW)).toBe(true);
    expect(isStale(NOW - 181, NOW, 60)).toBe(true);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1_572_864, '1.5 MiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
    [-1, 'unknown'],
  ])('%i → %s', (n, s) => expect(formatBytes(n)).toBe(s));
});

describe('plural', () => {
  it('uses the singular for one only', () => {
    expect(plural(1, 'cluster')).toBe('1 cluster');
    expect(plural(0, 'cluster')).toBe('0 clusters');
    expect(plural(4, 'provider')).toBe('4 providers');
  });
});

describe('metric formats', () => {
  it('formats latency seconds as µs, ms or s', () => {
    expect(formatSeconds(0.0005)).toBe('500 µs');
    expect(formatSeconds(0.0213)).toBe('21.3 ms');
    expect(formatSeconds(0.41)).toBe('410 ms');
    expect(formatSeconds(1.25)).toBe('1.25 s');
    expect(formatSeconds(null)).toBe('—');
    expect(formatSeconds(NaN)).toBe('—');
  });

  it('formats percentages, rates and cores', () => {
    expect(formatPct(4.25)).toBe('4.3%');
    expect(formatPct(42.5)).toBe('43%');
    expect(formatPct(null)).toBe('—');
    expect(formatRate(12.5)).toBe('12.5');
    expect(formatRate(1234.4)).toBe('1,234');
    expect(formatCores(0.25)).toBe('250m');
    expect(formatCores(1.5)).toBe('1.5');
    expect(formatCores(null)).toBe('—');
  });
});
