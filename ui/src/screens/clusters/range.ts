// The Cluster screen's time ranges: the presets the backend knows, and custom bounds typed in UTC.
import type { RangeRequest } from '../../lib/bindings/RangeRequest';
import { spanUtc } from '../../lib/format';

export const PRESETS = [
  { id: '1h', label: '1 h', title: 'Last hour' },
  { id: '24h', label: '24 h', title: 'Last 24 hours' },
  { id: '7d', label: '7 d', title: 'Last 7 days' },
  { id: '30d', label: '30 d', title: 'Last 30 days' },
] as const;

export const DEFAULT_RANGE: RangeRequest = { kind: 'preset', preset: '1h' };

/** Unix seconds → the value of an `<input type="datetime-local">`, read as UTC ("2026-11-22T14:02"). */
export function toInputValue(unixSec: number): string {
  const d = new Date(unixSec * 1000);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 16);
}

/** The reverse; null for an empty or malformed value. The inputs are labelled UTC, so no local offset. */
export function fromInputValue(value: string): number | null {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(value)) return null;
  const ms = Date.parse(`${value}Z`);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

/** A custom range from the two inputs, or why it cannot be one. */
export function customRange(startValue: string, endValue: string): RangeRequest | string {
  const start = fromInputValue(startValue);
  const end = fromInputValue(endValue);
  if (start === null || end === null) return 'Enter both the start and the end (UTC).';
  if (end <= start) return 'The end must be after the start.';
  return { kind: 'custom', start, end };
}

/** "Last hour", or "2026-11-22 14:02 → 15:02 UTC" for a custom range. */
export function rangeTitle(r: RangeRequest): string {
  if (r.kind === 'preset') return PRESETS.find((p) => p.id === r.preset)?.title ?? r.preset;
  return spanUtc(r.start, r.end);
}

export function sameRange(a: RangeRequest, b: RangeRequest): boolean {
  if (a.kind === 'preset' && b.kind === 'preset') return a.preset === b.preset;
  if (a.kind === 'custom' && b.kind === 'custom') return a.start === b.start && a.end === b.end;
  return false;
}
