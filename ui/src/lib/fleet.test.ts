import { describe, expect, it } from 'vitest';
import { CLUSTERS, cluster } from '../test/fixtures';
import { filterClusters, goneCount, nodeCount, providerCount } from './fleet';

const names = (q: string) => filterClusters(CLUSTERS, q).map((c) => c.name);

describe('nodeCount', () => {
  it('sums the node pools', () => {
    expect(nodeCount(CLUSTERS[0])).toBe(5);
    expect(nodeCount(CLUSTERS[1])).toBe(4);
  });

  it('is zero without node pools', () => {
    expect(nodeCount(cluster({ node_pools: [] }))).toBe(0);
  });
});

describe('providerCount', () => {
  it('counts distinct providers', () => {
    expect(providerCount(CLUSTERS)).toBe(4);
    expect(providerCount([CLUSTERS[0], cluster({ id: 'x' })])).toBe(1);
    expect(providerCount([])).toBe(0);
  });
});

describe('filterClusters', () => {
  it('keeps everything for an empty query', () => {
    expect(names('')).toEqual(['checkout', 'payments', 'search', 'edge']);
  });

  it('matches name, provider id, badge label, region and status, ignoring case', () => {
    expect(names('PAY')).toEqual(['payments']);
    expect(names('azure')).toEqual(['search']);
    expect(names('doks')).toEqual(['edge']);
    expect(names('fra1')).toEqual(['edge']);
    expect(names('succeeded')).toEqual(['search']);
  });

  it('requires every term to match (AND)', () => {
    expect(names('europe running')).toEqual(['payments']);
    expect(names('eks eu-west')).toEqual(['checkout']);
    expect(names('eks fra1')).toEqual([]);
  });

  it('does not mutate its input', () => {
    const copy = [...CLUSTERS];
    filterClusters(CLUSTERS, 'edge');
    expect(CLUSTERS).toEqual(copy);
  });
});

describe('gone clusters', () => {
  const withGone = [...CLUSTERS, cluster({ id: 'aws/prod/us-east-1/old', name: 'old', gone_at: 1 })];

  it('counts them', () => {
    expect(goneCount(CLUSTERS)).toBe(0);
    expect(goneCount(withGone)).toBe(1);
  });

  it('matches "gone" in the filter', () => {
    expect(filterClusters(withGone, 'gone').map((c) => c.name)).toEqual(['old']);
    expect(filterClusters(withGone, 'eks gone').map((c) => c.name)).toEqual(['old']);
  });
});
