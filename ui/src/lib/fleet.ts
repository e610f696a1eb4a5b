// Pure fleet-table logic, kept out of the component so it can be unit-tested.
import type { ClusterSummary } from './bindings/ClusterSummary';
import { providerLabel } from './providers';

export function nodeCount(c: ClusterSummary): number {
  return c.node_pools.reduce((sum, p) => sum + p.count, 0);
}

export function providerCount(clusters: readonly ClusterSummary[]): number {
  return new Set(clusters.map((c) => c.provider)).size;
}

/** Clusters their source no longer lists (kept and marked, never hidden). */
export function goneCount(clusters: readonly ClusterSummary[]): number {
  return clusters.filter((c) => c.gone_at != null).length;
}

/**
 * Every whitespace-separated term must match one of name, account, provider (id or badge label),
 * region or status (or "gone" for a vanished cluster), case-insensitively: "eks eu-west" narrows to EKS
 * clusters in eu-west-*.
 */
export function filterClusters(clusters: readonly ClusterSummary[], query: string): ClusterSummary[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return [...clusters];
  return clusters.filter((c) => {
    const fields = [c.name, c.account, c.provider, providerLabel(c.provider), c.region, c.status].map((f) =>
      f.toLowerCase(),
    );
    if (c.gone_at != null) fields.push('gone');
    return terms.every((t) => fields.some((f) => f.includes(t)));
  });
}
