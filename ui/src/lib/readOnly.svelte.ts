// Read-only mode as the whole UI sees it: the top-bar badge, the disabled action buttons, the Settings toggle.
// The backend's executors refuse writes on their own; this only keeps the UI honest about it.
import { readOnlyGet, readOnlySet } from './ipc';

export const readOnly = $state({ enabled: false });

/** Reads the persisted setting; on an error the UI keeps its current value (the apply still refuses). */
export async function loadReadOnly(): Promise<void> {
  try {
    readOnly.enabled = await readOnlyGet();
  } catch {
    // Settings shows the error when the user opens it.
  }
}

/** Persists and applies; rejects with a CommandError (the caller shows it). */
export async function setReadOnly(enabled: boolean): Promise<void> {
  readOnly.enabled = await readOnlySet(enabled);
}
