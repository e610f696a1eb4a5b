// How each run mode is named in the shell's badge and in Settings (§11: the sandbox badge is persistent).
import type { Mode } from './bindings/Mode';

export const SANDBOX_NOTE = 'Simulated fleet — not production. Add an account in Settings to use your clouds.';
export const OFFLINE_NOTE = 'Offline — cache only, no network. Every view shows cached data with its age.';

export const MODES: Record<Mode, { label: string; note: string }> = {
  sandbox: { label: 'Sandbox', note: SANDBOX_NOTE },
  live: { label: 'Live', note: 'Your cloud accounts, discovered on start and every 5 minutes.' },
  offline: { label: 'Offline', note: OFFLINE_NOTE },
};

/** Narrows what the backend sent; an unknown or missing value reads as "not known" rather than live. */
export function asMode(v: unknown): Mode | null {
  return typeof v === 'string' && Object.hasOwn(MODES, v) ? (v as Mode) : null;
}
