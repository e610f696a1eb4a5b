// A stand-in for `@tauri-apps/api/event` in tests:
//   vi.mock('@tauri-apps/api/event', () => import('<path>/test/events'));
// then `emit(name, payload)` delivers to every registered handler, as the Rust side's `app.emit` would.
import { vi } from 'vitest';

type Handler = (e: { event: string; id: number; payload: unknown }) => void;

const handlers = new Map<string, Set<Handler>>();
let nextId = 1;

export const listen = vi.fn(async (event: string, handler: Handler) => {
  let set = handlers.get(event);
  if (!set) handlers.set(event, (set = new Set()));
  set.add(handler);
  return async () => {
    set.delete(handler);
  };
});

/** Delivers `payload` to the current listeners of `event`; returns how many received it. */
export function emit(event: string, payload: unknown): number {
  const set = [...(handlers.get(event) ?? [])];
  for (const h of set) h({ event, id: nextId++, payload });
  return set.length;
}

export function listenerCount(event: string): number {
  return handlers.get(event)?.size ?? 0;
}

/** Forget every listener (call in beforeEach: unmounted components from a previous test may not have cleaned up). */
export function resetEvents(): void {
  handlers.clear();
  listen.mockClear();
}
