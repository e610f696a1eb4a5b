import { describe, expect, it } from 'vitest';
import { clusterFromHash, clusterHash, screenFromHash } from './screens';

describe('hash routes', () => {
  it('keeps the plain screen routes', () => {
    expect(screenFromHash('#/settings')).toBe('settings');
    expect(screenFromHash('#/nope')).toBe('fleet');
    expect(screenFromHash('')).toBe('fleet');
    expect(clusterFromHash('#/clusters')).toBeNull();
  });

  it('round-trips a cluster id with slashes through #/clusters/<id>', () => {
    const id = 'aws/prod/eu-west-1/checkout';
    const hash = clusterHash(id);
    expect(hash).toBe('#/clusters/aws%2Fprod%2Feu-west-1%2Fcheckout');
    expect(screenFromHash(hash)).toBe('clusters');
    expect(clusterFromHash(hash)).toBe(id);
    // Hand-typed, unencoded slashes work too.
    expect(clusterFromHash('#/clusters/aws/prod/eu-west-1/checkout')).toBe(id);
  });

  it('ignores a malformed escape instead of throwing', () => {
    expect(clusterFromHash('#/clusters/%E0%A4%A')).toBeNull();
    expect(clusterFromHash('#/fleet/x')).toBeNull();
  });
});
