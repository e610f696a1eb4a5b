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

/** `#/clusters` → clusters; anything unknown falls back to the fleet view. */
export function screenFromHash(hash: string): ScreenId {
  const id = hash.replace(/^#\/?/, '');
  return isScreenId(id) ? id : 'fleet';
}

export function screenTitle(id: ScreenId): string {
  return SCREENS.find((s) => s.id === id)?.title ?? id;
}
