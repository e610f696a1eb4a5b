// Typed client for the Tauri commands. Every call rejects with a CommandError, never with a raw value,
// so screens can render message + hint without guessing the shape.
import { invoke, isTauri } from '@tauri-apps/api/core';
import type { AppInfo } from './bindings/AppInfo';
import type { CommandError } from './bindings/CommandError';
import type { FleetOverview } from './bindings/FleetOverview';

export type { AppInfo, CommandError, FleetOverview };

export function fleetOverview(): Promise<FleetOverview> {
  return call<FleetOverview>('fleet_overview');
}

export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>('app_info');
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  // Without this check a plain browser (`npm run dev`) fails deep inside the API with a TypeError.
  if (!isTauri()) {
    throw {
      kind: 'no_backend',
      message: `The desktop backend is not available, so "${command}" could not run.`,
      hint: 'Open the UI through the desktop app (`make run`), not in a plain browser.',
    } satisfies CommandError;
  }
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toCommandError(e);
  }
}

/** Turns whatever a rejection carries into a CommandError. */
export function toCommandError(e: unknown): CommandError {
  if (typeof e === 'string') return { kind: 'unknown', message: e, hint: '' };
  if (e instanceof Error) return { kind: 'unknown', message: e.message || e.name, hint: '' };
  if (e !== null && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    if (typeof o.message === 'string') {
      return {
        kind: typeof o.kind === 'string' && o.kind !== '' ? o.kind : 'unknown',
        message: o.message,
        hint: typeof o.hint === 'string' ? o.hint : '',
      };
    }
    return { kind: 'unknown', message: safeJson(e), hint: '' };
  }
  return { kind: 'unknown', message: e === undefined || e === null ? 'Unknown error' : String(e), hint: '' };
}

/** The text behind "Copy diagnostics": only what the backend chose to tell us, so no secrets. */
export function diagnosticsText(err: CommandError): string {
  return `kind: ${err.kind}\nmessage: ${err.message}\nhint: ${err.hint || '(none)'}`;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
