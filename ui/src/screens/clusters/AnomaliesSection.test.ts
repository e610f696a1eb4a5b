import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { NOW, anomaly } from '../../test/fixtures';
import AnomaliesSection from './AnomaliesSection.svelte';

const LIST = [
  anomaly({ id: 1, severity: 'medium', subject: 'node/ip-10-0-1-12', metric: 'cpu_pct', value: 97, baseline: 41, causes: [] }),
  anomaly({ id: 2, severity: 'critical' }),
  anomaly({ id: 3, severity: 'critical', state: 'closed', last_seen: NOW - 3600, ended_at: NOW - 3500 }),
];

describe('AnomaliesSection', () => {
  it('renders one row per anomaly, open and worst first, with severity as a word and the top cause', () => {
    render(AnomaliesSection, { anomalies: LIST, now: NOW, onretry: vi.fn() });
    const rows = screen.getAllByTestId('anomaly-row');
    expect(rows.map((r) => r.dataset.anomalyId)).toEqual(['2', '1', '3']);
    expect(rows[0]).toHaveTextContent(/Critical.*service.*checkout-api.*p95 latency.*3 min ago.*open, last seen 1 min ago.*\+6\.3.*rolling out/);
    expect(rows[1]).toHaveTextContent(/Medium.*node.*ip-10-0-1-12.*CPU.*No probable cause found/);
    expect(rows[2]).toHaveTextContent(/Critical.*ended 58 min ago/);
    expect(screen.queryByTestId('anomaly-detail')).toBeNull();
    expect(screen.queryByTestId('anomalies-left-out')).toBeNull();
  });

  it('says how many anomalies the pages left out', () => {
    render(AnomaliesSection, { anomalies: LIST, leftOut: 12, now: NOW, onretry: vi.fn() });
    expect(screen.getByTestId('anomalies-left-out')).toHaveTextContent('12 more anomalies not listed');
  });

  it('opens the detail on click with every cause and the value against its baseline, and closes it', async () => {
    const user = userEvent.setup();
    render(AnomaliesSection, { anomalies: LIST, now: NOW, onretry: vi.fn() });
    await user.click(screen.getAllByTestId('anomaly-row')[0]);
    const detail = screen.getByTestId('anomaly-detail');
    expect(detail).toHaveAttribute('data-anomaly-id', '2');
    expect(within(detail).getByTestId('anomaly-detail-value')).toHaveTextContent('412 ms against a baseline of 90 ms');
    const causes = within(detail).getAllByTestId('anomaly-cause');
    expect(causes).toHaveLength(2);
    expect(causes[0]).toHaveTextContent(/Rollout.*rolling out.*evidence at 2025-11-22 08:23:00 UTC/);
    expect(causes[1]).toHaveTextContent(/Open alert.*p95 above 300 ms/);
    expect(screen.getAllByTestId('anomaly-row')[0]).toHaveAttribute('aria-selected', 'true');
    // Focus went to the detail; Escape closes it and returns to the row.
    expect(document.activeElement?.id).toBe('anomaly-detail-title');
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('anomaly-detail')).toBeNull();
    expect(document.activeElement).toBe(screen.getAllByTestId('anomaly-row')[0]);
  });

  it('moves with the arrow keys and opens with Enter', async () => {
    const user = userEvent.setup();
    render(AnomaliesSection, { anomalies: LIST, now: NOW, onretry: vi.fn() });
    const rows = screen.getAllByTestId('anomaly-row');
    expect(rows[0]).toHaveAttribute('tabindex', '0');
    rows[0].focus();
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(rows[1]);
    await user.keyboard('{Enter}');
    const detail = screen.getByTestId('anomaly-detail');
    expect(detail).toHaveAttribute('data-anomaly-id', '1');
    expect(within(detail).getByTestId('anomaly-causes')).toHaveTextContent('No probable cause was found');
    expect(within(detail).getByTestId('anomaly-detail-value')).toHaveTextContent('97% against a baseline of 41%');
  });

  it('says when there is nothing, and shows a retryable error', async () => {
    const user = userEvent.setup();
    const onretry = vi.fn();
    const { rerender } = render(AnomaliesSection, { anomalies: [], now: NOW, onretry });
    expect(screen.getByTestId('anomalies-empty')).toHaveTextContent('No open anomalies and none in the last 7 days');
    await rerender({ anomalies: null, error: { kind: 'store', message: 'the cache is locked', hint: '' }, now: NOW, onretry });
    expect(screen.getByTestId('anomalies-section')).toHaveTextContent('the cache is locked');
    await user.click(screen.getByRole('button', { name: /retry/i }));
    expect(onretry).toHaveBeenCalled();
  });
});
