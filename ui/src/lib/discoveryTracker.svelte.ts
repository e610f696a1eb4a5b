// Live state of the backend's discovery loop, fed by its events. The app shell owns one for the whole session
// (so progress survives a trip to another screen) and shares it through context; a Fleet screen rendered on
// its own makes its own.
import { getContext, setContext } from 'svelte';
import type { CommandError } from './bindings/CommandError';
import type { DiscoveryFinished } from './bindings/DiscoveryFinished';
import type { EndpointBreaker } from './bindings/EndpointBreaker';
import type { DiscoveryProgress } from './bindings/DiscoveryProgress';
import type { SourceError } from './bindings/SourceError';
import { applyProgress, errorFromEvent, type SourceProgress } from './discovery';
import { onDiscoveryFinished, onDiscoveryProgress, refreshFleet, toCommandError } from './ipc';

/**
 * With no event for this long, stop saying "discovering": a missed `discovery-finished` must not leave the
 * progress display up forever. Every outbound call has its own timeout, so a live run is never this quiet.
 */
export const DISCOVERY_WATCHDOG_MS = 120_000;

export class DiscoveryTracker {
  /** From a refresh request or the first progress event until `discovery-finished`. */
  running = $state(false);
  /** Per provider × account, in the order they reported. */
  sources = $state<SourceProgress[]>([]);
  /** `scope_failed` events of the current (or last) run; hints come later with the cached run. */
  errors = $state<SourceError[]>([]);
  /** The last run could not start at all. */
  failure = $state<string | null>(null);
  /** `refresh_fleet` was refused (offline mode, no backend). */
  refreshError = $state<CommandError | null>(null);
  /** Endpoints whose circuit breaker was open or half-open when the last run ended. */
  breakers = $state<EndpointBreaker[]>([]);
  /** How many runs ended since the app started. */
  finishedRuns = $state(0);

  #onFinished = new Set<(f: DiscoveryFinished) => void>();
  #watchdog: ReturnType<typeof setTimeout> | undefined;

  /** Subscribes to the backend's events; returns the cleanup. */
  connect(): () => void {
    const offProgress = onDiscoveryProgress((p) => this.progress(p));
    const offFinished = onDiscoveryFinished((f) => this.finished(f));
    return () => {
      offProgress();
      offFinished();
      clearTimeout(this.#watchdog);
    };
  }

  progress(p: DiscoveryProgress): void {
    if (this.running) this.#arm();
    else this.#begin();
    this.sources = applyProgress(this.sources, p);
    if (p.event === 'scope_failed') this.errors = [...this.errors, errorFromEvent(p)];
  }

  finished(f: DiscoveryFinished): void {
    clearTimeout(this.#watchdog);
    this.running = false;
    this.failure = f.failure;
    // An older backend does not send them.
    this.breakers = Array.isArray(f.breakers) ? f.breakers : [];
    this.finishedRuns++;
    for (const cb of [...this.#onFinished]) cb(f);
  }

  /** Runs `cb` after each run; the cache already holds its result. Returns the unsubscribe. */
  onFinished(cb: (f: DiscoveryFinished) => void): () => void {
    this.#onFinished.add(cb);
    return () => this.#onFinished.delete(cb);
  }

  /** Asks for a run now. A refusal lands in `refreshError`; a run already going is left alone. */
  async refresh(): Promise<void> {
    if (this.running) return;
    this.#begin();
    try {
      await refreshFleet();
    } catch (e) {
      clearTimeout(this.#watchdog);
      this.running = false;
      this.refreshError = toCommandError(e);
    }
  }

  #begin(): void {
    this.running = true;
    this.sources = [];
    this.errors = [];
    this.failure = null;
    this.refreshError = null;
    this.#arm();
  }

  #arm(): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => (this.running = false), DISCOVERY_WATCHDOG_MS);
  }
}

const KEY = Symbol('discovery');

/** Call during the app shell's initialisation. */
export function provideDiscovery(tracker: DiscoveryTracker): void {
  setContext(KEY, tracker);
}

/** The shell's tracker, or undefined when a screen is rendered on its own (tests). Call during init. */
export function sharedDiscovery(): DiscoveryTracker | undefined {
  return getContext<DiscoveryTracker | undefined>(KEY);
}
