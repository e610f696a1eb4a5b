// §11 health colours. `null` means "no data yet" and must never be shown as a number.
export type HealthLevel = 'good' | 'warn' | 'bad' | 'unknown';

export function healthLevel(score: number | null): HealthLevel {
  if (score === null || !Number.isFinite(score)) return 'unknown';
  if (score >= 90) return 'good';
  if (score >= 70) return 'warn';
  return 'bad';
}
