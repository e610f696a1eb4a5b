// Pure discovery-progress logic, kept out of the components so it can be unit-tested.
import type { CommandError } from './bindings/CommandError';
import type { DiscoveryProgress } from './bindings/DiscoveryProgress';
import type { Provider } from './bindings/Provider';
import type { SourceError } from './bindings/SourceError';

/** One source (provider × account) of the running discovery. */
export interface SourceProgress {
  provider: Provider;
  account: string;
  /** Scopes to list; null until the source has listed them (`planned`). */
  planned: number | null;
  done: number;
  failed: number;
  clusters: number;
  /** The scope that finished last, e.g. "aws/eu-west-1". */
  last: string | null;
}

const NOUNS: Partial<Record<Provider, string>> = { aws: 'region', gcp: 'project', azure: 'subscription' };

/** What a provider's scopes are called: "3 of 12 regions". */
export function scopeNoun(provider: string, n: number): string {
  const one = (NOUNS as Record<string, string>)[provider] ?? 'scope';
  return n === 1 ? one : `${one}s`;
}

/** Folds one progress event into the per-source list (a new array; sources keep their first-seen order). */
export function applyProgress(sources: readonly SourceProgress[], p: DiscoveryProgress): SourceProgress[] {
  const i = sources.findIndex((s) => s.provider === p.provider && s.account === p.account);
  const prev: SourceProgress = i >= 0 ? sources[i] : { provider: p.provider, account: p.account, planned: null, done: 0, failed: 0, clusters: 0, last: null };
  let next: SourceProgress;
  switch (p.event) {
    case 'planned':
      next = { ...prev, planned: p.scopes };
      break;
    case 'scope_done':
      next = { ...prev, done: prev.done + 1, clusters: prev.clusters + p.clusters, last: p.scope };
      break;
    case 'scope_failed':
      next = { ...prev, failed: prev.failed + 1, last: p.scope || prev.last };
      break;
    default:
      // A newer backend's event: keep the list as it is rather than crash.
      return [...sources];
  }
  return i >= 0 ? sources.map((s, j) => (j === i ? next : s)) : [...sources, next];
}

export interface ProgressTotals {
  sources: number;
  planned: number;
  finished: number;
  failed: number;
  clusters: number;
}

export function progressTotals(sources: readonly SourceProgress[]): ProgressTotals {
  const t: ProgressTotals = { sources: sources.length, planned: 0, finished: 0, failed: 0, clusters: 0 };
  for (const s of sources) {
    t.planned += s.planned ?? 0;
    t.finished += s.done + s.failed;
    t.failed += s.failed;
    t.clusters += s.clusters;
  }
  return t;
}

/** A `scope_failed` event as a SourceError; events carry no hint, the cached run does. */
export function errorFromEvent(p: Extract<DiscoveryProgress, { event: 'scope_failed' }>): SourceError {
  return { provider: p.provider, account: p.account, scope: p.scope, kind: p.kind, message: p.message, hint: '' };
}

function errorKey(e: SourceError): string {
  return `${e.provider}\u0000${e.account}\u0000${e.scope}\u0000${e.kind}`;
}

/**
 * The errors to show: the cached run's (they have hints) plus live ones the cache does not know yet, one per
 * provider/account/scope/kind, ordered by provider, account and scope so one cloud's failures sit together.
 */
export function mergeSourceErrors(cached: readonly SourceError[], live: readonly SourceError[]): SourceError[] {
  const seen = new Map<string, SourceError>();
  for (const e of cached) if (!seen.has(errorKey(e))) seen.set(errorKey(e), e);
  for (const e of live) if (!seen.has(errorKey(e))) seen.set(errorKey(e), e);
  return [...seen.values()].sort(
    (a, b) => a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account) || a.scope.localeCompare(b.scope),
  );
}

/** The text behind a source error's "Copy diagnostics": only what the backend sent, which never has secrets. */
export function sourceDiagnostics(e: SourceError): string {
  return [
    `provider: ${e.provider}`,
    `account: ${e.account || '(none)'}`,
    `scope: ${e.scope || '(account-wide)'}`,
    `kind: ${e.kind}`,
    `message: ${e.message}`,
    `hint: ${e.hint || '(none)'}`,
  ].join('\n');
}

/** `discovery-finished.failure` is "what — what to try" (fleet.rs); split it for the error panel. */
export function failureError(failure: string): CommandError {
  const at = failure.indexOf(' — ');
  if (at > 0) return { kind: 'discovery', message: failure.slice(0, at), hint: failure.slice(at + 3) };
  return { kind: 'discovery', message: failure, hint: '' };
}
