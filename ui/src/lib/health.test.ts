import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import HealthBadge from './HealthBadge.svelte';
import { healthLevel } from './health';

describe('healthLevel (§11 colours)', () => {
  it.each([
    [100, 'good'],
    [90, 'good'],
    [89, 'warn'],
    [70, 'warn'],
    [69, 'bad'],
    [0, 'bad'],
    [null, 'unknown'],
    [Number.NaN, 'unknown'],
  ] as const)('%s → %s', (score, level) => {
    expect(healthLevel(score)).toBe(level);
  });
});

describe('HealthBadge', () => {
  it('says "unknown" with an icon and no number when there is no score', () => {
    render(HealthBadge, { score: null });
    const badge = screen.getByTestId('health-badge');
    expect(badge).toHaveTextContent(/^unknown$/);
    expect(badge).toHaveClass('unknown');
    expect(badge.querySelector('svg')).not.toBeNull();
  });

  it('shows the number next to the icon, never colour alone', () => {
    render(HealthBadge, { score: 72.4 });
    const badge = screen.getByTestId('health-badge');
    expect(badge).toHaveTextContent('72');
    expect(badge).toHaveClass('warn');
    expect(badge.querySelector('svg')).not.toBeNull();
  });
});
