// Pure fleet-table logic, kept out of the component so it can be unit-tested.
import type { ClusterSummary } from './bindings/ClusterSummary';
import { providerLabel } from './providers';

export function nodeCount(c: ClusterSummary): number {
  return c.node_pools.reduce((sum, p) => sum + p.count, 0);
}

export function providerCount(clusters: readonly ClusterSummary[]): number {
  return new Set(clusters.map((c) => c.provider)).size;
}

/**
 * Every whitespace-separated term must match one of name, account, provider (id or badge label),
 * region or status, case-insensitively: "eks eu-west" narrows to EKS clusters in eu-west-*.
 */
export function filterClusters(clusters: readonly ClusterSummary[], query: string): ClusterSummary[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return [...clusters];
  return clusters.filter((c) => {
    const fields = [c.name, c.account, c.provider, providerLabel(c.provider), c.region, c.status].map((f) =>
      f.toLowerCase(),
    );
    return terms.every((t) => fields.some((f) => f.includes(t)));
  });
}
