import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import ProviderBadge from './ProviderBadge.svelte';
import { providerLabel, providerTone } from './providers';

describe('provider badges', () => {
  it.each([
    ['aws', 'EKS'],
    ['gcp', 'GKE'],
    ['azure', 'AKS'],
    ['do', 'DOKS'],
    ['kubeconfig', 'kubeconfig'],
  ])('%s is labelled %s', (p, label) => {
    expect(providerLabel(p)).toBe(label);
  });

  it('shows an unknown provider by its id instead of failing', () => {
    expect(providerLabel('hetzner')).toBe('HETZNER');
    expect(providerTone('hetzner')).toBe('other');
  });

  it('renders text (no logo) with a per-provider colour class and a full name', () => {
    render(ProviderBadge, { provider: 'gcp' });
    const badge = screen.getByTestId('provider-badge');
    expect(badge).toHaveTextContent('GKE');
    expect(badge).toHaveClass('tone-gcp');
    expect(badge).toHaveAttribute('title', expect.stringContaining('Google'));
    expect(badge.querySelector('img')).toBeNull();
  });
});
