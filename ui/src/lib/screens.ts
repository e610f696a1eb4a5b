// The one list of screens: the rail, the palette and the `:` aliases all derive from it.
export type ScreenId = 'fleet' | 'clusters' | 'workloads' | 'alerts' | 'cost' | 'actions' | 'settings';

export interface ScreenInfo {
  id: ScreenId;
  title: string;
}

export const SCREENS: readonly ScreenInfo[] = [
  { id: 'fleet', title: 'Fleet' },
  { id: 'clusters', title: 'Clusters' },
  { id: 'workloads', title: 'Workloads' },
  { id: 'alerts', title: 'Alerts' },
  { id: 'cost', title: 'Cost' },
  { id: 'actions', title: 'Actions' },
  { id: 'settings', title: 'Settings' },
];

export function isScreenId(s: string): s is ScreenId {
  return SCREENS.some((x) => x.id === s);
}

/** `#/clusters` (or `#/clusters/<id>`) → clusters; anything unknown falls back to the fleet view. */
export function screenFromHash(hash: string): ScreenId {
  const id = hash.replace(/^#\/?/, '').split('/')[0];
  return isScreenId(id) ? id : 'fleet';
}

/**
 * The cluster a `#/clusters/<id>` hash selects, or null. Cluster ids contain slashes
 * (`provider/account/region/name`), so the id is one URI-encoded segment.
 */
export function clusterFromHash(hash: string): string | null {
  const m = /^#\/?clusters\/(.+)$/.exec(hash);
  if (!m) return null;
  try {
    const id = decodeURIComponent(m[1]);
    return id === '' ? null : id;
  } catch {
    // A hand-typed hash with a stray `%`: open the list rather than fail.
    return null;
  }
}

/** The hash that opens the Clusters screen on one cluster (e2e tests and the palette use it). */
export function clusterHash(id: string): string {
  return `#/clusters/${encodeURIComponent(id)}`;
}

export function screenTitle(id: ScreenId): string {
  return SCREENS.find((s) => s.id === id)?.title ?? id;
}
