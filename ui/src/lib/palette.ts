// Command palette logic: the command list, fuzzy-ish ranking and k9s-style `:` aliases.
import { providerLabel } from './providers';
import { SCREENS, type ScreenId } from './screens';

export type PaletteAction =
  | { type: 'navigate'; screen: ScreenId }
  | { type: 'reload-fleet' }
  | { type: 'refresh-fleet' }
  | { type: 'focus-filter' }
  | { type: 'open-failover' }
  | { type: 'open-cluster'; clusterId: string }
  | { type: 'open-logs'; clusters: string[]; namespace: string; deployment: string };

/** What the palette needs to offer "Open cluster …" (a subset of ClusterSummary). */
export interface PaletteCluster {
  id: string;
  name: string;
  provider: string;
  account: string;
  region: string;
}

export interface PaletteCommand {
  id: string;
  title: string;
  /** Shown on the right of the item: the `:` alias or the shortcut. */
  hint: string;
  keywords: readonly string[];
  /** k9s-style jump name, typed after `:`. */
  alias?: string;
  action: PaletteAction;
}

const SCREEN_KEYWORDS: Record<ScreenId, string[]> = {
  fleet: ['overview', 'home', 'health'],
  clusters: ['eks', 'gke', 'aks', 'doks', 'discovery', 'node pools'],
  workloads: ['deployments', 'pods', 'namespaces'],
  alerts: ['incidents', 'anomalies', 'acknowledge'],
  cost: ['money', 'budget', 'forecast', 'spend'],
  actions: ['scale', 'restart', 'rollback', 'failover', 'audit'],
  settings: ['preferences', 'about', 'version', 'cache', 'data dir'],
};

export function buildCommands(
  opts: {
    hasFilter?: boolean;
    canRefresh?: boolean;
    clusters?: readonly PaletteCluster[];
    /** Deployments running in several clusters: "Logs: X across clusters". */
    deployments?: readonly { namespace: string; name: string; clusters: string[] }[];
  } = {},
): PaletteCommand[] {
  const commands: PaletteCommand[] = SCREENS.map((s) => ({
    id: `go:${s.id}`,
    title: `Go to ${s.title}`,
    hint: `:${s.id}`,
    keywords: SCREEN_KEYWORDS[s.id],
    alias: s.id,
    action: { type: 'navigate', screen: s.id },
  }));
  commands.push({
    id: 'reload-fleet',
    title: 'Reload fleet',
    hint: '',
    keywords: ['refresh', 'cache', 'clusters'],
    action: { type: 'reload-fleet' },
  });
  // Offline mode has no discovery: the backend would only refuse.
  if (opts.canRefresh ?? true) {
    commands.push({
      id: 'refresh-fleet',
      title: 'Refresh fleet (discover now)',
      hint: 'r',
      keywords: ['discover', 'discovery', 'sync', 'clouds', 'accounts'],
      action: { type: 'refresh-fleet' },
    });
  }
  // Hidden when the current screen has nothing to focus, rather than offering a no-op.
  if (opts.hasFilter ?? true) {
    commands.push({
      id: 'focus-filter',
      title: 'Focus filter',
      hint: '/',
      keywords: ['search', 'find'],
      action: { type: 'focus-filter' },
    });
  }
  commands.push({
    id: 'failover',
    title: 'Failover…',
    hint: 'f on a workload',
    keywords: ['fail over', 'move', 'region', 'cloud', 'disaster', 'evacuate'],
    action: { type: 'open-failover' },
  });
  // After the screens and actions, so "cl" still ranks "Go to Clusters" first on ties.
  for (const c of opts.clusters ?? []) {
    commands.push({
      id: `cluster:${c.id}`,
      title: `Open cluster ${c.name}`,
      hint: `${providerLabel(c.provider)} · ${c.region}`,
      keywords: [c.provider, providerLabel(c.provider), c.account, c.region, c.id],
      action: { type: 'open-cluster', clusterId: c.id },
    });
  }
  for (const d of opts.deployments ?? []) {
    commands.push({
      id: `logs:${d.namespace}/${d.name}`,
      title: `Logs: ${d.name} across clusters`,
      hint: `${d.namespace} · ${d.clusters.length} clusters`,
      keywords: ['logs', 'tail', 'stream', 'errors', 'patterns', d.namespace],
      action: { type: 'open-logs', clusters: [...d.clusters], namespace: d.namespace, deployment: d.name },
    });
  }
  return commands;
}

const BOUNDARY = /[\s\-_:/.]/;

/**
 * Score one needle against one haystack, higher is better, null when it does not match.
 * Bands: exact > prefix > word start > substring > subsequence ("gtc" → "Go To Clusters").
 */
export function fuzzyScore(needle: string, haystack: string): number | null {
  const q = needle.toLowerCase();
  const t = haystack.toLowerCase();
  if (q === '') return 0;
  if (t === q) return 1000;
  if (t.startsWith(q)) return 900;
  for (let i = t.indexOf(q); i > 0; i = t.indexOf(q, i + 1)) {
    if (BOUNDARY.test(t[i - 1])) return 800 - Math.min(i, 99);
  }
  const at = t.indexOf(q);
  if (at >= 0) return 600 - Math.min(at, 99);

  let score = 0;
  let from = 0;
  let prev = -2;
  for (const ch of q) {
    const found = t.indexOf(ch, from);
    if (found < 0) return null;
    if (found === prev + 1) score += 5;
    if (found === 0 || BOUNDARY.test(t[found - 1])) score += 10;
    score -= found - from;
    prev = found;
    from = found + 1;
  }
  return Math.max(1, Math.min(400, 200 + score));
}

function scoreCommand(terms: string[], c: PaletteCommand): number | null {
  let total = 0;
  for (const term of terms) {
    let best: number | null = fuzzyScore(term, c.title);
    for (const k of c.keywords) {
      const s = fuzzyScore(term, k);
      // Keywords help recall but must not outrank a hit on the visible title.
      if (s !== null && (best === null || s - 200 > best)) best = s - 200;
    }
    if (best === null) return null;
    total += best;
  }
  return total;
}

function aliasMatches(q: string, commands: readonly PaletteCommand[]): PaletteCommand[] {
  const withAlias = commands.filter((c) => c.alias !== undefined);
  if (q === '') return withAlias;
  const rank = (a: string): number => {
    if (a === q) return 3;
    if (a.startsWith(q)) return 2;
    return fuzzyScore(q, a) !== null && a[0] === q[0] ? 1 : 0;
  };
  return stableSortBy(
    withAlias.filter((c) => rank(c.alias!) > 0),
    (c) => rank(c.alias!),
  );
}

/** Commands matching `query`, best first. `:name` matches only screen aliases, k9s style. */
export function matchCommands(query: string, commands: readonly PaletteCommand[]): PaletteCommand[] {
  const trimmed = query.trim();
  if (trimmed.startsWith(':')) return aliasMatches(trimmed.slice(1).trim().toLowerCase(), commands);
  const terms = trimmed.split(/\s+/).filter(Boolean);
  if (terms.length === 0) return [...commands];
  const scored: { c: PaletteCommand; s: number }[] = [];
  for (const c of commands) {
    const s = scoreCommand(terms, c);
    if (s !== null) scored.push({ c, s });
  }
  return stableSortBy(scored, (x) => x.s).map((x) => x.c);
}

/** Descending by key; ties keep list order so the palette reads like the rail. */
function stableSortBy<T>(items: T[], key: (t: T) => number): T[] {
  return items
    .map((item, i) => ({ item, i, k: key(item) }))
    .sort((a, b) => b.k - a.k || a.i - b.i)
    .map((x) => x.item);
}
