// Which logs the panel shows: set from a Workloads row (`l`), a pod, or the palette; the shell renders the panel.
import type { LogTarget } from './bindings/LogTarget';

export const logsPanel = $state<{ target: LogTarget | null }>({ target: null });

export function openLogs(target: LogTarget): void {
  logsPanel.target = target;
}

export function closeLogs(): void {
  logsPanel.target = null;
}
